-- Takes $1 ids from the messages' sequence, for step mails queued later in
-- the same transaction with them (insert_step_messages): a tracked mail's
-- tokens name its id, so the id is known before the mail is composed. An id
-- taken and never used is a gap, as a rolled-back insert leaves one. The
-- sequence is looked up once, not for every id.
SELECT nextval((SELECT pg_get_serial_sequence('messages', 'id')::regclass)) FROM generate_series(1, $1)
