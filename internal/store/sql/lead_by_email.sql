SELECT id, email, first_name, last_name, status, stage, source, attributes, score, fit, engagement, temperature, score_at,
       created_at, updated_at, confirmed_at, unsubscribed_at, confirm_mailed_at
FROM leads WHERE email = $1
