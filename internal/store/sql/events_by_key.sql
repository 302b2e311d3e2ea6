-- The events recorded under these idempotency keys.
SELECT idempotency_key, id, lead_id FROM events WHERE idempotency_key = ANY($1::text[])
