-- The ids of leads named by id or by (normalised) address.
SELECT id, email FROM leads WHERE id = ANY($1::bigint[]) OR email = ANY($2::text[])
