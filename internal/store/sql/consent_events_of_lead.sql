-- A lead's ledger, oldest first. mail_message_id is the Message-ID of the
-- mail an entry refers to: the one a signup or resend caused, or the one
-- whose link a confirmation confirmed. mail is that mail's bytes, for the
-- entry that caused it.
SELECT e.id, e.lead_id, e.kind, e.message_id, e.at, e.ip, e.user_agent, e.consent_text,
       e.consent_version, e.source, e.source_url, e.tracking, e.tracking_text, e.tracking_version,
       m.message_id AS mail_message_id,
       convert_from(r.raw, 'UTF8') AS mail
FROM consent_events e
LEFT JOIN messages m ON m.id = e.message_id
LEFT JOIN message_raw r ON r.message_id = e.message_id AND e.kind IN ('signup', 'resend')
WHERE e.lead_id = $1
ORDER BY e.at, e.id
