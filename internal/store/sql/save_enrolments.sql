-- Writes what a dispatcher decided for a batch of claimed enrolments at $1.
-- steps_done comes joined with '/', which a slug cannot hold. The rows are
-- found by id = ANY, through the primary key: joined to the unnest alone, the
-- planner would hash the whole table for every batch, a cost that grows
-- with the enrolments instead of the batch.
UPDATE enrolments e
SET state = u.state,
    steps_done = string_to_array(u.done, '/'),
    last_order = u.last_order,
    due_at = u.due_at::timestamptz,
    last_sent_at = COALESCE(NULLIF(u.sent_at, '')::timestamptz, e.last_sent_at),
    last_passed_at = COALESCE(NULLIF(u.passed_at, '')::timestamptz, e.last_passed_at),
    ended_at = CASE WHEN u.state = 'active' THEN NULL ELSE $1::timestamptz END,
    ended_reason = u.reason
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[])
    AS u(id, state, done, last_order, due_at, sent_at, passed_at, reason)
WHERE e.id = ANY ($2::bigint[]) AND e.id = u.id
