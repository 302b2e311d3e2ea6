-- Sets the webhook state of handoff $1 to $2.
UPDATE handoffs SET webhook = $2 WHERE id = $1
RETURNING id
