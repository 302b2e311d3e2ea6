-- Names the set of links of message $1, composed again after a crash
-- from a step edited since it was first composed: no one saw the first one.
UPDATE messages SET link_set_id = $2 WHERE id = $1
