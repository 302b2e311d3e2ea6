UPDATE leads SET fit = $2, engagement = $3, score = $4, temperature = $5, score_at = $6
WHERE id = $1
