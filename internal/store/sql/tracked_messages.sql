-- What clicks of these messages need: the lead, the link set, the step,
-- when the mail was delivered, its links (NULL for a mail without a set),
-- and its clicks
-- recorded since $2, for burst and honeypot verdicts.
SELECT m.id, COALESCE(m.lead_id, 0) AS lead_id, COALESCE(m.link_set_id, 0) AS link_set_id,
       COALESCE(m.step_key, '') AS step_key, m.sent_at,
       COALESCE(ls.links, 'null'::jsonb) AS links,
       COALESCE((SELECT json_agg(json_build_object('id', e.id, 'link', COALESCE(e.link, -1), 'honeypot', e.type = 'honeypot',
                                                   'at', e.at, 'verdict', e.verdict, 'url', COALESCE(e.url, '')) ORDER BY e.id)
                 FROM events e
                 WHERE e.message_id = m.id AND e.source = 'click' AND e.at >= $2), '[]'::json) AS recent
FROM messages m
LEFT JOIN link_sets ls ON ls.id = m.link_set_id
WHERE m.id = ANY($1::bigint[]) AND m.lead_id IS NOT NULL
