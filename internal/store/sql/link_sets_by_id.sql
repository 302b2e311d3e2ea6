-- The link sets of these ids, each with its links as JSON.
SELECT id, links::text AS links FROM link_sets WHERE id = ANY($1::bigint[])
