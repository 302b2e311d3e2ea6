-- +goose Up

-- Each time the digest of scoring.yaml's handoff.digest schedule falls due
-- (slot), the node that sends it writes a row here in the transaction that
-- queues the owners' mails: another node, or the same one after a restart,
-- finds the slot taken and sends nothing.
CREATE TABLE handoff_digests (
    slot    TIMESTAMPTZ PRIMARY KEY,
    sent_at TIMESTAMPTZ NOT NULL,
    mails   INTEGER NOT NULL
);

-- +goose Down
DROP TABLE handoff_digests;
