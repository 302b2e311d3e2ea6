-- A repeated signup: an unconfirmed lead takes what the person typed now; a
-- confirmed lead keeps its data. $7 is when a confirmation mail is queued
-- now, or NULL.
UPDATE leads
SET first_name = CASE WHEN status = 'confirmed' THEN first_name ELSE $2 END,
    last_name = CASE WHEN status = 'confirmed' THEN last_name ELSE $3 END,
    source = CASE WHEN status = 'confirmed' THEN source ELSE $4 END,
    attributes = CASE WHEN status = 'confirmed' THEN attributes ELSE $5 END,
    updated_at = CASE WHEN status = 'confirmed' THEN updated_at ELSE $6 END,
    confirm_mailed_at = coalesce($7, confirm_mailed_at)
WHERE id = $1
