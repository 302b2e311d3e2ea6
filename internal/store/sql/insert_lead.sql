INSERT INTO leads (email, first_name, last_name, status, source, attributes, created_at, updated_at, confirm_mailed_at)
VALUES ($1, $2, $3, 'pending', $4, $5, $6, $6, $7)
ON CONFLICT (email) DO NOTHING
RETURNING id
