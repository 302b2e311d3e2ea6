-- Enrols confirmed lead $1 in sequence $2, due at $4, at $5. Without
-- reenroll ($3) a lead is enrolled at most once; with it, once at a time.
INSERT INTO enrolments (lead_id, sequence, state, due_at, enrolled_at)
SELECT $1, $2, 'active', $4, $5
WHERE EXISTS (SELECT 1 FROM leads WHERE id = $1 AND status = 'confirmed')
  AND NOT EXISTS (
    SELECT 1 FROM enrolments WHERE lead_id = $1 AND sequence = $2 AND (NOT $3 OR state = 'active')
  )
ON CONFLICT DO NOTHING
RETURNING id
