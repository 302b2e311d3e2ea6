UPDATE leads SET status = 'bounced', updated_at = $2
WHERE id = $1 AND status IN ('pending', 'confirmed')
RETURNING email
