-- Locks lead $1 against changes by other transactions until this one ends,
-- leaving rows that only refer to it (events, facts) free to be written.
SELECT id FROM leads WHERE id = $1 FOR NO KEY UPDATE
