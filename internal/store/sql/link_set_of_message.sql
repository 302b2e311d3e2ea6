-- The set of links of message $1, if it was tracked.
SELECT l.id, l.links::text AS links
FROM messages m JOIN link_sets l ON l.id = m.link_set_id
WHERE m.id = $1
