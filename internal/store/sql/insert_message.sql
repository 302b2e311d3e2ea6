WITH m AS (
    INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at)
    VALUES ($1, $2, $3, $4, $5, 'queued', $7, $7)
    RETURNING id
), r AS (
    INSERT INTO message_raw (message_id, raw) SELECT id, $6 FROM m
)
SELECT id FROM m
