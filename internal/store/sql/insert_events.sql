-- API, site and system events of a batch, the n-th row numbered $1[n]. A
-- row whose lead is gone, or whose idempotency key is taken, is left out.
-- Returns the numbers written and their ids.
WITH u AS (
    SELECT nextval('events_id_seq') AS id, u.*
    FROM unnest($1::int[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[])
           AS u(n, lead_id, type, url, at, source, idempotency_key)
    JOIN leads l ON l.id = u.lead_id
), ins AS (
    INSERT INTO events (id, lead_id, type, url, at, source, idempotency_key, verdict, reason)
    SELECT id, lead_id, type, NULLIF(url, ''), at, source, NULLIF(idempotency_key, ''), 'human', 'sent by ' || source
    FROM u
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id
)
SELECT u.n, u.id FROM u JOIN ins ON ins.id = u.id
