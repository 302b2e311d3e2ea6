-- When the first attempt at handoff $1's webhook since $2 was made; NULL
-- before any.
SELECT min(at) FROM webhook_attempts WHERE handoff_id = $1 AND at >= $2
