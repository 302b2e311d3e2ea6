-- An event Nurture itself records, such as a confirmation, for scoring.
INSERT INTO events (lead_id, type, source, at) VALUES ($1, $2, 'system', $3)
RETURNING id
