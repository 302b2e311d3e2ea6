-- Marks lead $1 bounced at $2 and stops all its enrolments. Every link
-- issued until now stops confirming (opted_out_at).
WITH stopped AS (
    UPDATE enrolments SET state = 'stopped', ended_at = $2, ended_reason = 'bounced'
    WHERE lead_id = $1 AND state = 'active'
)
UPDATE leads SET status = 'bounced', opted_out_at = $2, updated_at = $2
WHERE id = $1 AND status IN ('pending', 'confirmed')
RETURNING email
