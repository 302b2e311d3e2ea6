-- Repeated signups, one per array element, each lead at most once: see
-- update_signup.sql. $7 says whether a confirmation mail is queued now ($6).
UPDATE leads l
SET first_name = CASE WHEN l.status = 'confirmed' THEN l.first_name ELSE u.first_name END,
    last_name = CASE WHEN l.status = 'confirmed' THEN l.last_name ELSE u.last_name END,
    source = CASE WHEN l.status = 'confirmed' THEN l.source ELSE u.source END,
    attributes = CASE WHEN l.status = 'confirmed' THEN l.attributes ELSE u.attributes END,
    updated_at = CASE WHEN l.status = 'confirmed' THEN l.updated_at ELSE u.at END,
    confirm_mailed_at = CASE WHEN u.mailed THEN u.at ELSE l.confirm_mailed_at END
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::bool[])
    AS u (id, first_name, last_name, source, attributes, at, mailed)
WHERE l.id = u.id
