-- One write per round of the senders: records the messages SMTP accepted
-- ($4, with the server's replies $5) as sent at $3, and marks messages $1
-- as handed to SMTP at $3, so that a crash from here on counts them as
-- possible repeats. A message is marked only while its sender still holds
-- it: $2 is the attempt it was claimed with, and a message claimed again by
-- another sender meanwhile (its lease ran out) has moved on. It returns the
-- messages marked; the others must not be sent.
WITH sent AS (
    UPDATE messages m
    SET status = 'sent', sent_at = $3, smtp_reply = r.reply, locked_until = NULL
    FROM unnest($4::bigint[], $5::text[]) AS r (id, reply)
    WHERE m.id = r.id
)
UPDATE messages m
SET smtp_started_at = $3
FROM unnest($1::bigint[], $2::int[]) AS s (id, attempts)
WHERE m.id = s.id AND m.attempts = s.attempts AND m.status = 'sending'
RETURNING m.id
