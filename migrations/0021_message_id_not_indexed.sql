-- +goose Up

-- Every mail wrote its Message-ID into a unique index when it was queued,
-- and again on every update that could not stay on its page (a claim, its
-- record as sent): a random 40-character key, so each entry landed on a
-- page of its own and was checked against the heap for an equal key. No
-- query looks a mail up by its Message-ID (the statements that write mails
-- join their own rows by it, in memory), and mailer.NewMessageID makes it
-- of 160 random bits, so the index guarded against nothing that happens.
-- Without it, Postgres's CPU time per mail of a step (BenchmarkDispatchCost)
-- went from 93 µs to 77–81 µs.
ALTER TABLE messages DROP CONSTRAINT messages_message_id_key;

-- +goose Down
ALTER TABLE messages ADD CONSTRAINT messages_message_id_key UNIQUE (message_id);
