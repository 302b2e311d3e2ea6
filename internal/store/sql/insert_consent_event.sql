INSERT INTO consent_events (lead_id, email_hash, kind, at, ip, user_agent, consent_text, consent_version, source, source_url, message_id,
    tracking, tracking_text, tracking_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
RETURNING id
