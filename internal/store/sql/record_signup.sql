-- One round trip for what a signup writes besides the lead: the confirmation
-- mail in the outbox (when $11 raw is not NULL), the ledger entry pointing
-- to it, and the token hash ($15) tied to that entry.
WITH m AS (
    INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at)
    SELECT 'confirmation', $1, $12, $13, $14, 'queued', $4, $4
    WHERE $11::bytea IS NOT NULL
    RETURNING id
), r AS (
    INSERT INTO message_raw (message_id, raw) SELECT id, $11 FROM m
), e AS (
    INSERT INTO consent_events (lead_id, email_hash, kind, at, ip, user_agent, consent_text, consent_version, source, source_url, message_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, (SELECT id FROM m))
    RETURNING id
)
INSERT INTO confirm_tokens (hash, lead_id, signup_event_id, created_at, expires_at)
SELECT $15, $1, e.id, $4, $16 FROM e
WHERE $15::bytea IS NOT NULL
