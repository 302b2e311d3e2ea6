-- +goose Up

-- A mail's bytes are written once and read once or twice; compressing them
-- cost more CPU than the space it saved. Rows up to the largest a page
-- holds are now stored as they are; only larger mails are compressed or
-- moved out of line, as before.
ALTER TABLE message_raw SET (toast_tuple_target = 8160);

-- +goose Down
ALTER TABLE message_raw RESET (toast_tuple_target);
