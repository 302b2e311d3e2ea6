-- A repeated signup of an address that is not confirmed refreshes what the
-- person typed; a confirmed lead keeps its data.
UPDATE leads
SET first_name = $2, last_name = $3, source = $4, attributes = $5, updated_at = $6
WHERE id = $1 AND status <> 'confirmed'
