UPDATE messages SET status = 'failed', smtp_reply = $2, locked_until = NULL
WHERE id = $1
