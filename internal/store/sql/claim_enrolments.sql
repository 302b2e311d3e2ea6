-- Locks up to $2 active enrolments due at $1, with their leads, for the
-- caller's transaction. Rows another dispatcher holds are skipped.
SELECT e.id AS enrolment_id, e.sequence, e.steps_done, e.last_order, e.due_at,
    e.enrolled_at, e.last_sent_at, e.last_passed_at,
    l.id, l.email, l.first_name, l.last_name, l.status, l.stage, l.source,
    l.attributes, l.score, l.fit, l.engagement, l.temperature, l.score_at, l.tracking, l.created_at, l.updated_at, l.confirmed_at, l.unsubscribed_at,
    EXISTS (
        SELECT 1 FROM suppressions s WHERE s.email_hash = sha256(convert_to(l.email, 'UTF8'))
    ) AS suppressed
FROM enrolments e
JOIN leads l ON l.id = e.lead_id
WHERE e.state = 'active' AND e.due_at <= $1
ORDER BY e.due_at
LIMIT $2
FOR UPDATE OF e SKIP LOCKED
