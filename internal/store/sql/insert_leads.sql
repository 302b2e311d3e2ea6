-- Inserts pending leads, one per array element, in address order. $7 says
-- whether a confirmation mail is queued now for the lead. An address that
-- exists already (or was inserted by a concurrent transaction) is skipped
-- and missing from the result.
INSERT INTO leads (email, first_name, last_name, status, source, attributes, created_at, updated_at, confirm_mailed_at)
SELECT s.email, s.first_name, s.last_name, 'pending', s.source, s.attributes, s.at, s.at,
       CASE WHEN s.mailed THEN s.at END
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::bool[])
    AS s (email, first_name, last_name, source, attributes, at, mailed)
ORDER BY s.email
ON CONFLICT (email) DO NOTHING
RETURNING id, email
