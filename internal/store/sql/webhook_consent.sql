-- The confirmation of lead $1 that is in force: its last one.
SELECT e.at, e.source, e.source_url, e.consent_version
FROM consent_events e
WHERE e.lead_id = $1 AND e.kind = 'confirmation'
ORDER BY e.at DESC, e.id DESC
LIMIT 1
