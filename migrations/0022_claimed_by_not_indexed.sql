-- +goose Up

-- Each mail handed to a sender wrote an entry into messages_claimed_by_idx,
-- which served only the queries that look for the mail of dead nodes
-- (claim_messages' orphaned, next_message_due, join_node). Mail being sent
-- is few, the mail held in memory by the live senders, and each of those
-- queries reads it whole through messages_sending_idx, as cheaply as
-- through an index of its own; the mail sent is in neither. (The entry
-- was one of five a handed-over mail wrote; Postgres's CPU time per mail
-- of a step went from 77–81 µs to 75.5 µs, within the benchmark's noise.)
DROP INDEX messages_claimed_by_idx;

-- +goose Down
CREATE INDEX messages_claimed_by_idx ON messages (claimed_by) WHERE status = 'sending';
