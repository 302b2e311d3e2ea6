INSERT INTO events (lead_id, type, step_key, url, at)
VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''), $5)
RETURNING id
