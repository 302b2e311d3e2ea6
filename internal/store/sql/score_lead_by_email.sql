SELECT id, email, first_name, last_name, status, stage, source, attributes, score,
       created_at, updated_at, confirmed_at, unsubscribed_at,
       fit, engagement, temperature, score_at, recycled_at
FROM leads WHERE email = $1
