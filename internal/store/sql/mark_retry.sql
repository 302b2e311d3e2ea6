-- Puts message $1 back in the queue for $2, with $5 more refusals (1 for a
-- 4xx reply, 0 when the server could not be reached). A mail that was
-- handed to the sender without its bytes stored (a leased step mail) gets
-- them now ($4), so the retry sends exactly what the first attempt did.
-- With $6 the attempt may have reached the server (its data went out and
-- no reply came): its mark stays, so the next claim counts a repeat.
WITH r AS (
    INSERT INTO message_raw (message_id, raw)
    SELECT $1, $4::bytea WHERE $4::bytea IS NOT NULL
    ON CONFLICT (message_id) DO NOTHING
)
UPDATE messages SET status = 'queued', run_at = $2, smtp_reply = $3, locked_until = NULL, claimed_by = NULL,
    refusals = refusals + $5,
    smtp_started_at = CASE WHEN $6::bool THEN smtp_started_at ELSE NULL END
WHERE id = $1
