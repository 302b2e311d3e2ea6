-- One write per round of the senders: records the messages SMTP accepted
-- (sent, with the server's reply) as sent at $3, and marks the others as
-- handed to SMTP at $3, so that a crash from here on counts them as
-- possible repeats. $1 holds the ids, $2 the attempt each was claimed
-- with, $4 whether it was sent and $5 its reply. A message is marked only
-- while its sender still holds it: one claimed again by another sender
-- meanwhile (its lease ran out) has another attempt number. It returns the
-- messages marked; the others must not be sent.
UPDATE messages m
SET status = CASE WHEN r.sent THEN 'sent' ELSE m.status END,
    sent_at = CASE WHEN r.sent THEN $3 ELSE m.sent_at END,
    smtp_reply = CASE WHEN r.sent THEN r.reply ELSE m.smtp_reply END,
    locked_until = CASE WHEN r.sent THEN NULL ELSE m.locked_until END,
    smtp_started_at = CASE WHEN r.sent THEN m.smtp_started_at ELSE $3 END
FROM unnest($1::bigint[], $2::int[], $4::bool[], $5::text[]) AS r (id, attempts, sent, reply)
WHERE m.id = r.id AND (r.sent OR (m.attempts = r.attempts AND m.status = 'sending'))
RETURNING m.id, r.sent
