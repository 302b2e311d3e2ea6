-- Opens handoff $1 again, undecided: its lead was moved back to mql by
-- hand after sales had accepted it.
UPDATE handoffs SET status = 'open', reason = '', decided_by = '', decided_at = NULL
WHERE id = $1
