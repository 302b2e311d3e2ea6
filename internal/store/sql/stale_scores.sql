-- Locks up to $2 leads whose stored score is older than $1, oldest first,
-- skipping those another node holds.
SELECT id FROM leads
WHERE score_at < $1
ORDER BY score_at
LIMIT $2
FOR NO KEY UPDATE SKIP LOCKED
