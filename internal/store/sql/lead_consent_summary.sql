-- What lead $1 consented to and withdrew, oldest first, without the mails.
SELECT kind, at, source, source_url, consent_version, tracking
FROM consent_events
WHERE lead_id = $1 AND kind IN ('signup', 'confirmation', 'unsubscribe', 'tracking_granted', 'tracking_withdrawn')
ORDER BY at, id
