DELETE FROM suppressions WHERE email_hash = $1
