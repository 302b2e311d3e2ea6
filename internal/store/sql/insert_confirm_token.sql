INSERT INTO confirm_tokens (hash, lead_id, signup_event_id, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5)
