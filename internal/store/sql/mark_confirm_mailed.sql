-- Records that a confirmation mail is queued for each lead ($1, each at
-- most once) at its time ($2). A repeated signup changes nothing else of
-- its lead: what it said travels with the link it sends.
UPDATE leads l
SET confirm_mailed_at = u.at, updated_at = u.at
FROM unnest($1::bigint[], $2::timestamptz[]) AS u (id, at)
WHERE l.id = u.id
