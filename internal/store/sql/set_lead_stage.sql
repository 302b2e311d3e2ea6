-- Moves lead $1 to stage $2 at $3 and returns the stage it had; a change
-- leaves a row in stage_changes naming who made it ($4) and why ($5). The
-- lead's row stays locked to the end of the caller's transaction, so
-- concurrent changes of one lead's stage take turns. Setting the stage a
-- lead has already writes nothing.
WITH old AS (
    SELECT id, stage FROM leads WHERE id = $1 FOR NO KEY UPDATE
), moved AS (
    UPDATE leads l SET stage = $2, stage_at = $3, updated_at = $3
    FROM old
    WHERE l.id = old.id AND old.stage <> $2
    RETURNING l.id
), logged AS (
    INSERT INTO stage_changes (lead_id, at, from_stage, to_stage, actor, reason)
    SELECT old.id, $3, old.stage, $2, $4, $5 FROM old JOIN moved ON moved.id = old.id
)
SELECT stage FROM old
