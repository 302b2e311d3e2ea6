-- Queues one mail at $7, or, with a lease ($8), writes it as claimed until
-- then by the sender that will be handed it after commit, on node $9.
WITH m AS (
    INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, attempts, locked_until, claimed_by, run_at, created_at)
    VALUES ($1, $2, $3, $4, $5,
        CASE WHEN $8::timestamptz IS NULL THEN 'queued' ELSE 'sending' END,
        CASE WHEN $8::timestamptz IS NULL THEN 0 ELSE 1 END,
        $8::timestamptz, CASE WHEN $8::timestamptz IS NULL THEN NULL ELSE $9::bigint END, $7, $7)
    RETURNING id
), r AS (
    INSERT INTO message_raw (message_id, raw) SELECT id, $6 FROM m
)
SELECT id FROM m
