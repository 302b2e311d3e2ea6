UPDATE leads SET status = 'unsubscribed', unsubscribed_at = $2, updated_at = $2
WHERE id = $1 AND status <> 'unsubscribed'
