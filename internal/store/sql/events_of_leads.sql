-- The events of a batch of leads, oldest first.
SELECT lead_id, type, COALESCE(step_key, '') AS step_key, COALESCE(url, '') AS url, at
FROM events
WHERE lead_id = ANY($1::bigint[])
ORDER BY lead_id, at, id
