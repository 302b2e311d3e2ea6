-- +goose Up

-- Every running relay is a node with a row here, which it renews every
-- second or so (alive_until, a few seconds ahead). A message in status
-- 'sending' names the node that holds it (claimed_by): once that node's
-- alive_until has passed (the process died, or stopped without releasing
-- it) any node claims the message at once, without waiting for its lease,
-- which stays as the bound for mail that names no node. A restarted
-- process is a new node, so the claims of the one before it fall free as
-- soon as that one stops renewing.
CREATE TABLE relay_nodes (
    id          BIGSERIAL PRIMARY KEY,
    started_at  TIMESTAMPTZ NOT NULL,
    alive_until TIMESTAMPTZ NOT NULL
);
CREATE INDEX relay_nodes_alive_idx ON relay_nodes (alive_until);

-- No foreign key: a node's row may be cleaned up while rows still name it,
-- which then count as held by a dead node.
ALTER TABLE messages ADD COLUMN claimed_by BIGINT;
CREATE INDEX messages_claimed_by_idx ON messages (claimed_by) WHERE status = 'sending';

-- smtp_started_at now also marks queued mail whose last attempt may have
-- reached the server (the reply to its data never came); a claim counts
-- such mail as a repeat. Marks left on queued mail before meant nothing.
UPDATE messages SET smtp_started_at = NULL WHERE status = 'queued' AND smtp_started_at IS NOT NULL;

-- +goose Down
DROP INDEX messages_claimed_by_idx;
ALTER TABLE messages DROP COLUMN claimed_by;
DROP TABLE relay_nodes;
