-- Extends to $3 the lease of messages $1 that their sender still holds,
-- claimed with attempts $2: a sender that is slow (a rate limit, a slow
-- server) keeps what it claimed instead of another sender sending it too.
UPDATE messages m
SET locked_until = $3
FROM unnest($1::bigint[], $2::int[]) AS s (id, attempts)
WHERE m.id = s.id AND m.attempts = s.attempts AND m.status = 'sending'
