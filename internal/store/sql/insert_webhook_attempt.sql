INSERT INTO webhook_attempts (handoff_id, at, url, status, error, duration_ms)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id
