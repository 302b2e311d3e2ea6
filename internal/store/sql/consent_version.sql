SELECT version, wording, first_source, first_live_at FROM consent_versions WHERE version = $1
