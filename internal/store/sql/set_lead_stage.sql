-- Moves lead $1 to stage $2 at $3 and returns the stage it had. The lead's
-- row stays locked to the end of the caller's transaction, so concurrent
-- changes of one lead's stage take turns.
WITH old AS (
    SELECT id, stage FROM leads WHERE id = $1 FOR NO KEY UPDATE
)
UPDATE leads l SET stage = $2, updated_at = $3
FROM old
WHERE l.id = old.id
RETURNING old.stage
