-- Queues a batch of step mails at $1 in one statement; the bytes go to
-- message_raw, joined back by the unique Message-ID.
WITH u AS (
    SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::bigint[], $8::text[])
        AS u(lead_id, message_id, sender, recipient, raw, enrolment_id, step_key)
), m AS (
    INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, enrolment_id, step_key)
    SELECT 'step', u.lead_id, u.message_id, u.sender, u.recipient, 'queued', $1, $1, u.enrolment_id, u.step_key
    FROM u
    RETURNING id, message_id
)
INSERT INTO message_raw (message_id, raw)
SELECT m.id, u.raw FROM m JOIN u ON u.message_id = m.message_id
