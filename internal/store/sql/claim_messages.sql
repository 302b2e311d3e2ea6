-- Claims up to $3 messages that are due at $1, or whose sender died while
-- holding them (its lease ran out at $1, or its node $5 names stopped
-- renewing), and leases them until $2 for node $5 (NULL for none). A
-- message claimed again after a sender had handed it to SMTP
-- (smtp_started_at set: it was marked and never recorded, or the reply to
-- its data never came) may have arrived already: it is counted in repeats.
-- raw is NULL for a leased step mail whose bytes were never stored (see
-- insert_step_messages.sql). Suppressed recipients are flagged for every
-- mail but the confirmation mail the person asked for: an address that
-- unsubscribed or bounced can sign up again, and only confirming lifts its
-- suppression.
-- Mail the claiming sender holds itself ($4) is never taken from it, even
-- if its lease has run out meanwhile.
-- The due rows are picked in MATERIALIZED CTEs: as a subquery in FROM the
-- planner may scan it more than once, and each scan with SKIP LOCKED can
-- return other rows, so the claim could exceed the limit. Expired leases,
-- mail of dead nodes and queued mail are picked apart, the first two from
-- messages_sending_idx (the mail being sent, which is little) and the
-- queued mail from messages_queued_idx: an OR of them would scan and sort
-- the whole queue on every claim.
WITH stale AS MATERIALIZED (
    SELECT id FROM messages
    WHERE status = 'sending' AND locked_until <= $1 AND id <> ALL ($4::bigint[])
    ORDER BY locked_until
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), orphaned AS MATERIALIZED (
    SELECT id FROM messages
    WHERE status = 'sending' AND id <> ALL ($4::bigint[])
      AND claimed_by IN (SELECT n.id FROM relay_nodes n WHERE n.alive_until <= $1)
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), fresh AS MATERIALIZED (
    SELECT id FROM messages
    WHERE status = 'queued' AND run_at <= $1
    ORDER BY run_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), due AS (
    (SELECT id FROM stale UNION SELECT id FROM orphaned)
    UNION ALL
    SELECT id FROM fresh
    LIMIT $3
)
UPDATE messages m
SET status = 'sending',
    attempts = m.attempts + 1,
    locked_until = $2,
    claimed_by = $5,
    repeats = m.repeats + CASE WHEN m.smtp_started_at IS NOT NULL THEN 1 ELSE 0 END,
    smtp_started_at = NULL
FROM due
WHERE m.id = due.id
RETURNING m.id, m.kind, m.lead_id, m.message_id, COALESCE(m.step_key, '') AS step_key, m.created_at,
    m.sender, m.recipient, (SELECT r.raw FROM message_raw r WHERE r.message_id = m.id) AS raw, m.attempts, m.refusals,
    (m.kind <> 'confirmation' AND EXISTS (
        SELECT 1 FROM suppressions s WHERE s.email_hash = sha256(convert_to(m.recipient, 'UTF8'))
    )) AS suppressed
