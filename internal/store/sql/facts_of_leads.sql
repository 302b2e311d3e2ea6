-- What conditions and exits know of a batch of leads: their facts, one row
-- per lead and counted signal, never their events, so that the cost follows
-- the batch and not the events table. The times come as microseconds since
-- the epoch: a batch reads thousands of facts, and a number costs less to
-- print and read than a timestamp's text.
SELECT lead_id, kind, key, url,
       (extract(epoch FROM first_at) * 1000000)::bigint AS first_us,
       (extract(epoch FROM last_at) * 1000000)::bigint AS last_us,
       count
FROM lead_facts
WHERE lead_id = ANY($1::bigint[])
ORDER BY lead_id, first_at, kind, key, url
