SELECT at, from_stage, to_stage, actor, reason FROM stage_changes
WHERE lead_id = $1 ORDER BY at, id
