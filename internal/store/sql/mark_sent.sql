UPDATE messages m
SET status = 'sent', sent_at = $2, smtp_reply = r.reply, locked_until = NULL
FROM unnest($1::bigint[], $3::text[]) AS r (id, reply)
WHERE m.id = r.id
