-- Counted signals of leads, one row per lead, kind and key (unique in the
-- arrays), in a stable order so that concurrent batches lock alike.
INSERT INTO lead_facts AS f (lead_id, kind, key, first_at, last_at, count)
SELECT lead_id, kind, key, first_at, last_at, count
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::int[])
       AS u(lead_id, kind, key, first_at, last_at, count)
ORDER BY lead_id, kind, key
ON CONFLICT (lead_id, kind, key) DO UPDATE
SET first_at = LEAST(f.first_at, EXCLUDED.first_at),
    last_at  = GREATEST(f.last_at, EXCLUDED.last_at),
    count    = f.count + EXCLUDED.count
