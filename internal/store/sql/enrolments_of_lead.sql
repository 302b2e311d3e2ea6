SELECT id, lead_id, sequence, state, steps_done, last_order, due_at, enrolled_at,
    last_sent_at, ended_at, ended_reason
FROM enrolments
WHERE lead_id = $1
ORDER BY enrolled_at, id
