UPDATE leads
SET status = 'confirmed', confirmed_at = $2, unsubscribed_at = NULL, updated_at = $2
WHERE id = $1 AND status <> 'confirmed'
