INSERT INTO messages (kind, lead_id, message_id, sender, recipient, raw, status, run_at, created_at)
VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $7)
RETURNING id
