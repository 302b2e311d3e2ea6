-- What conditions and exits know of a batch of leads: their facts, one row
-- per lead and counted signal, never their events, so that the cost follows
-- the batch and not the events table.
SELECT lead_id, kind, key, first_at, last_at, count
FROM lead_facts
WHERE lead_id = ANY($1::bigint[])
ORDER BY lead_id, first_at, kind, key
