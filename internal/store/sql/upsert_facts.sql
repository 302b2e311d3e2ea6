-- Counted signals of leads, one row per lead, kind, key and url (unique in
-- the arrays), in a stable order so that concurrent batches lock alike.
INSERT INTO lead_facts AS f (lead_id, kind, key, url, first_at, last_at, count)
SELECT lead_id, kind, key, url, first_at, last_at, count
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::int[])
       AS u(lead_id, kind, key, url, first_at, last_at, count)
ORDER BY lead_id, kind, key, url
ON CONFLICT (lead_id, kind, key, url) DO UPDATE
SET first_at = LEAST(f.first_at, EXCLUDED.first_at),
    last_at  = GREATEST(f.last_at, EXCLUDED.last_at),
    count    = f.count + EXCLUDED.count
