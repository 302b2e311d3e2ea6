SELECT id, lead_id, kind, message_id, at, ip, user_agent, consent_text, consent_version, source, source_url,
    tracking, tracking_text, tracking_version
FROM consent_events WHERE id = $1
