SELECT id, email, first_name, last_name, status, stage, source, attributes, score,
       created_at, updated_at, confirmed_at, unsubscribed_at, confirm_mailed_at
FROM leads WHERE email = $1 FOR NO KEY UPDATE
