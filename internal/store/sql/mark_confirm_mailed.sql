UPDATE leads SET confirm_mailed_at = $2 WHERE id = $1
