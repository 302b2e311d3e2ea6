-- Every delivery attempt of handoff $1's webhook, oldest first.
SELECT id, handoff_id, at, url, status, error, duration_ms
FROM webhook_attempts
WHERE handoff_id = $1
ORDER BY at, id
