-- Ends lead $1's active enrolments in the sequences $2 as exited at $3,
-- for reason $4.
UPDATE enrolments
SET state = 'exited', ended_at = $3, ended_reason = $4
WHERE lead_id = $1 AND state = 'active' AND sequence = ANY($2::text[])
