-- Stores the sets of links $2 (JSON text) with digests $1, by position,
-- those not stored yet, and returns the id of each, new or old. A set
-- another transaction stores at the same moment is in neither branch: it
-- is not visible to this statement's snapshot, so the caller asks again.
WITH s AS (
    SELECT * FROM unnest($1::bytea[], $2::text[]) AS s(digest, links)
), ins AS (
    INSERT INTO link_sets (digest, links)
    SELECT digest, links::jsonb FROM s
    ON CONFLICT (digest) DO NOTHING
    RETURNING id, digest
)
SELECT id, digest FROM ins
UNION ALL
SELECT l.id, l.digest FROM link_sets l JOIN s ON s.digest = l.digest
