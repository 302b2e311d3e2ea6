-- Forgets the 410 mark of webhook URL $1.
DELETE FROM webhook_endpoints WHERE url = $1
