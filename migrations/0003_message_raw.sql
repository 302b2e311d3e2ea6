-- +goose Up

-- A message's bytes move to a table of their own, written once and never
-- updated. The relay updates a message row twice (claim, then sent); with
-- the bytes in the row, each update wrote a new version of the row with
-- its (compressed) bytes.
CREATE TABLE message_raw (
    message_id BIGINT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    raw        BYTEA NOT NULL
);
INSERT INTO message_raw (message_id, raw) SELECT id, raw FROM messages;
ALTER TABLE messages DROP COLUMN raw;

-- +goose Down
ALTER TABLE messages ADD COLUMN raw BYTEA;
UPDATE messages m SET raw = r.raw FROM message_raw r WHERE r.message_id = m.id;
ALTER TABLE messages ALTER COLUMN raw SET NOT NULL;
DROP TABLE message_raw;
