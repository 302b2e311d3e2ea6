INSERT INTO suppressions (email_hash, reason, created_at) VALUES ($1, $2, $3)
ON CONFLICT (email_hash) DO NOTHING
