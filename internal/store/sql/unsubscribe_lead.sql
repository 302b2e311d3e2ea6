-- Marks lead $1 unsubscribed at $2 and stops all its enrolments. Every link
-- issued until now stops confirming (opted_out_at). A lead unsubscribed
-- already changes only when a confirmation mail went to it since it opted
-- out: it signed up again, and that link is withdrawn too. Nothing changes
-- otherwise, so the caller can tell whether it withdrew anything.
WITH stopped AS (
    UPDATE enrolments SET state = 'stopped', ended_at = $2, ended_reason = 'unsubscribed'
    WHERE lead_id = $1 AND state = 'active'
)
UPDATE leads SET status = 'unsubscribed', unsubscribed_at = $2, opted_out_at = $2, updated_at = $2
WHERE id = $1 AND (status <> 'unsubscribed' OR confirm_mailed_at > opted_out_at)
