-- The newest $2 tracked mails of leads with an id above $1, newest first:
-- their lead and link set, which a node keeps in memory so that their
-- links redirect while the database is down.
SELECT id, lead_id, link_set_id FROM messages
WHERE id > $1 AND link_set_id IS NOT NULL AND lead_id IS NOT NULL
ORDER BY id DESC
LIMIT $2
