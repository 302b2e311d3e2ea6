-- +goose Up

-- A webhook receiver that answered 410 Gone: no handoff is posted to that
-- URL again until an operator redelivers one (which deletes the row) or
-- scoring.yaml names another URL (a delivery to the new one deletes the
-- marks of every other). handoff_id is the handoff whose post got the 410.
CREATE TABLE webhook_endpoints (
    url        TEXT PRIMARY KEY,
    gone_at    TIMESTAMPTZ NOT NULL,
    handoff_id BIGINT NOT NULL
);

-- +goose Down
DROP TABLE webhook_endpoints;
