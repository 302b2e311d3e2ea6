-- Locks the leads with these normalised addresses ($1), in address order so
-- that two batches lock shared rows in the same order.
SELECT id, email, first_name, last_name, status, stage, source, attributes, score,
       created_at, updated_at, confirmed_at, unsubscribed_at, confirm_mailed_at
FROM leads WHERE email = ANY($1::text[]) ORDER BY email FOR NO KEY UPDATE
