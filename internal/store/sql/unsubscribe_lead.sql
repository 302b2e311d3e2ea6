-- Marks lead $1 unsubscribed at $2 and stops all its enrolments.
WITH stopped AS (
    UPDATE enrolments SET state = 'stopped', ended_at = $2, ended_reason = 'unsubscribed'
    WHERE lead_id = $1 AND state = 'active'
)
UPDATE leads SET status = 'unsubscribed', unsubscribed_at = $2, updated_at = $2
WHERE id = $1 AND status <> 'unsubscribed'
