SELECT e.id, e.lead_id, e.kind, e.message_id, e.at, e.ip, e.user_agent, e.consent_text,
       e.consent_version, e.source, e.source_url, convert_from(r.raw, 'UTF8') AS mail
FROM consent_events e
LEFT JOIN message_raw r ON r.message_id = e.message_id
WHERE e.lead_id = $1
ORDER BY e.at, e.id
