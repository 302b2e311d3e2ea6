INSERT INTO consent_versions (version, wording, first_source, first_live_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (version) DO NOTHING
