-- +goose Up

-- A message in status 'sending' is held by one sender: claimed, or written
-- leased by the transaction that caused it. smtp_started_at is set, in a
-- write of its own, just before that sender opens the SMTP transaction,
-- and cleared by the next claim: after a crash, only a message with it set
-- can have reached SMTP, so only such a message counts as a repeat when it
-- is claimed again. Messages held but not yet started are sent as if for
-- the first time.
ALTER TABLE messages ADD COLUMN smtp_started_at TIMESTAMPTZ;

-- Temporary refusals (4xx replies) of the message so far; an unreachable
-- server is no refusal, so an outage never uses up a message's attempts.
ALTER TABLE messages ADD COLUMN refusals INTEGER NOT NULL DEFAULT 0;

-- Every message is updated a few times after its insert (marked, then
-- recorded; claimed, for mail that was queued). Room left on each page
-- lets the mark, which changes no indexed column, stay on its page
-- without new index entries (a HOT update).
ALTER TABLE messages SET (fillfactor = 50);

-- +goose Down
ALTER TABLE messages RESET (fillfactor);
ALTER TABLE messages DROP COLUMN refusals;
ALTER TABLE messages DROP COLUMN smtp_started_at;
