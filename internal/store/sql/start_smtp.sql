-- One write per round of a sender: $4 says what happened to each message
-- $1, claimed with attempt $2, at $3:
--   0 (start)   about to be handed to SMTP: marked, so that a crash from
--               here on counts it as a possible repeat;
--   1 (sent)    SMTP accepted it, with the server's reply $5: recorded;
--   2 (release) never handed to SMTP and given back (the sender stops):
--               queued again, due at once, its mark cleared.
-- A message is started or released only while its sender still holds it:
-- one claimed again by another sender meanwhile has another attempt
-- number. It returns the messages written, with what was done; a start
-- not among them must not be sent.
UPDATE messages m
SET status = CASE r.act WHEN 1 THEN 'sent' WHEN 2 THEN 'queued' ELSE m.status END,
    sent_at = CASE WHEN r.act = 1 THEN $3 ELSE m.sent_at END,
    smtp_reply = CASE WHEN r.act = 1 THEN r.reply ELSE m.smtp_reply END,
    run_at = CASE WHEN r.act = 2 THEN $3 ELSE m.run_at END,
    locked_until = CASE WHEN r.act = 0 THEN m.locked_until ELSE NULL END,
    claimed_by = CASE WHEN r.act = 2 THEN NULL ELSE m.claimed_by END,
    smtp_started_at = CASE r.act WHEN 0 THEN $3 WHEN 2 THEN NULL ELSE m.smtp_started_at END
FROM unnest($1::bigint[], $2::int[], $4::int[], $5::text[]) AS r (id, attempts, act, reply)
WHERE m.id = r.id AND (r.act = 1 OR (m.attempts = r.attempts AND m.status = 'sending'))
RETURNING m.id, r.act
