-- Sets lead $1's consent to open and click tracking to $2 at $3; it changes
-- no row when the lead's consent is $2 already.
UPDATE leads SET tracking = $2, updated_at = $3
WHERE id = $1 AND tracking <> $2
