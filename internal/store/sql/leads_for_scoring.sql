-- Locks leads $1 in id order, so that nodes scoring the same leads take
-- turns without deadlock, and returns what scoring reads of them.
SELECT id, email, first_name, last_name, status, stage, source, attributes, score,
       created_at, updated_at, confirmed_at, unsubscribed_at,
       fit, engagement, temperature, score_at, recycled_at
FROM leads WHERE id = ANY($1::bigint[])
ORDER BY id
FOR NO KEY UPDATE
