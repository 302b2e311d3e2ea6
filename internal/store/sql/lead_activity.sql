-- The latest $2 counted events of lead $1 (verdict human or image_proxy),
-- newest first, with the mail each open or click came from and the
-- clicked link's address and text from the mail's link set (whose array
-- counts from 0, the link's index from 1), and the header block of the
-- message as sent (up to its blank line, else its first 8 KiB), for its
-- subject.
SELECT e.id, e.at, e.type, e.source,
       COALESCE(e.step_key, m.step_key, '') AS step_key,
       COALESCE(NULLIF(e.url, ''), ls.links -> (e.link - 1) ->> 'url', '') AS url,
       COALESCE(ls.links -> (e.link - 1) ->> 'text', '') AS link_text,
       COALESCE(substring(r.raw FROM 1 FOR COALESCE(NULLIF(position('\x0d0a0d0a'::bytea IN r.raw), 0), 8192)), ''::bytea) AS mail_head
FROM events e
LEFT JOIN messages m ON m.id = e.message_id
LEFT JOIN link_sets ls ON ls.id = m.link_set_id
LEFT JOIN message_raw r ON r.message_id = m.id
WHERE e.lead_id = $1 AND e.verdict IN ('human', 'image_proxy')
ORDER BY e.at DESC, e.id DESC
LIMIT $2
