SELECT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = $1)
