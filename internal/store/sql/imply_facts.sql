-- The open that a counted click of a mail implies, counted once: only
-- where the lead has no open of that mail's step yet.
INSERT INTO lead_facts (lead_id, kind, key, first_at, last_at, count)
SELECT lead_id, 'open', key, at, at, 1
FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS u(lead_id, key, at)
ORDER BY lead_id, key
ON CONFLICT (lead_id, kind, key) DO NOTHING
