-- Queues a batch of step mails at $1 in one statement.
INSERT INTO messages (kind, lead_id, message_id, sender, recipient, raw, status, run_at, created_at, enrolment_id, step_key)
SELECT 'step', u.lead_id, u.message_id, u.sender, u.recipient, u.raw, 'queued', $1, $1, u.enrolment_id, u.step_key
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::bigint[], $8::text[])
    AS u(lead_id, message_id, sender, recipient, raw, enrolment_id, step_key)
