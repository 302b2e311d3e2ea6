-- Locks lead $1 and returns its tracking consent: its address, status and
-- source, whether it agreed to open and click tracking (leads.tracking), and the words of the
-- agreement in force: those of its last grant, or of the signup (or resend)
-- whose link it confirmed, whichever is later. The words are '' when it
-- never agreed.
SELECT l.id, l.email, l.status, l.source, l.tracking,
    coalesce(w.tracking_text, '') AS tracking_text,
    coalesce(w.tracking_version, '') AS tracking_version
FROM leads l
LEFT JOIN LATERAL (
    SELECT e.tracking_text, e.tracking_version
    FROM consent_events e
    WHERE e.lead_id = l.id AND e.tracking AND e.tracking_version <> ''
      AND (e.kind = 'tracking_granted'
           OR (e.kind IN ('signup', 'resend') AND e.message_id IN (
               SELECT c.message_id FROM consent_events c WHERE c.lead_id = l.id AND c.kind = 'confirmation')))
    ORDER BY e.at DESC, e.id DESC
    LIMIT 1
) w ON true
WHERE l.id = $1
FOR NO KEY UPDATE OF l
