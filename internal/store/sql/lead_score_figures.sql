-- The current figures of lead $1's score.
SELECT fit, engagement, score, temperature, recycled_at FROM leads WHERE id = $1
