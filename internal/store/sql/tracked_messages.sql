-- What an open or click of these messages needs: the lead, the step, when
-- the mail was delivered and its links (NULL for a mail without a set).
SELECT m.id, COALESCE(m.lead_id, 0) AS lead_id, COALESCE(m.step_key, '') AS step_key, m.sent_at,
       COALESCE(ls.links, 'null'::jsonb) AS links
FROM messages m
LEFT JOIN link_sets ls ON ls.id = m.link_set_id
WHERE m.id = ANY($1::bigint[]) AND m.lead_id IS NOT NULL
