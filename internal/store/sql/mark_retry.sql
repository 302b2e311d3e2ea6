UPDATE messages SET status = 'queued', run_at = $2, smtp_reply = $3, locked_until = NULL
WHERE id = $1
