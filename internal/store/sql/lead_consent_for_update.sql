-- Locks lead $1 and returns its address with the consent an unsubscribe or
-- erasure withdraws: for a confirmed lead, the one its last confirmation
-- confirmed; otherwise the one its last signup (or resend) gave, which its
-- link would confirm. The text, version and source are '' when the lead
-- has no such entry.
SELECT l.email,
    coalesce(c.consent_text, '') AS consent_text,
    coalesce(c.consent_version, '') AS consent_version,
    coalesce(c.source, '') AS source
FROM leads l
LEFT JOIN LATERAL (
    SELECT e.consent_text, e.consent_version, e.source
    FROM consent_events e
    WHERE e.lead_id = l.id
      AND e.kind = ANY (CASE WHEN l.status = 'confirmed' THEN ARRAY['confirmation'] ELSE ARRAY['signup', 'resend'] END)
    ORDER BY e.at DESC, e.id DESC
    LIMIT 1
) c ON true
WHERE l.id = $1
FOR NO KEY UPDATE OF l
