-- Opens and clicks of a batch, the n-th numbered $1[n], with the lead facts
-- of those that count, in one statement. A hit of a mail that is not a
-- lead's is unknown; one whose lead is not tracked ($12 false:
-- NURTURE_TRACKING=consent and the lead did not agree) is not written.
-- Returns each hit's number, its id if written, and whether it was known.
WITH u AS (
    SELECT u.*, m.lead_id, COALESCE(m.step_key, '') AS step_key,
           l.id IS NOT NULL AND ($12::bool OR l.tracking) AS tracked,
           u.verdict IN ('human', 'image_proxy') AS counted
    FROM unnest($1::int[], $2::bigint[], $3::text[], $4::int[], $5::timestamptz[], $6::text[], $7::text[],
                $8::text[], $9::text[], $10::text[], $11::text[])
           AS u(n, message_id, type, link, at, source, verdict, reason, ip_prefix, user_agent, url)
    LEFT JOIN messages m ON m.id = u.message_id
    LEFT JOIN leads l ON l.id = m.lead_id
), w AS (
    SELECT nextval('events_id_seq') AS id, u.* FROM u WHERE tracked
), ins AS (
    INSERT INTO events (id, lead_id, type, step_key, url, at, source, message_id, link, verdict, reason, ip_prefix, user_agent)
    SELECT id, lead_id, type, NULLIF(step_key, ''), NULLIF(url, ''), at, source, message_id, NULLIF(link, -1),
           verdict, reason, ip_prefix, user_agent
    FROM w
), facts AS (
    INSERT INTO lead_facts AS f (lead_id, kind, key, first_at, last_at, count)
    SELECT lead_id, kind, key, min(at), max(at), count(*)::int
    FROM (SELECT lead_id, type AS kind, step_key AS key, at FROM w
          WHERE counted AND type IN ('open', 'click') AND step_key <> ''
          UNION ALL
          SELECT lead_id, 'url', url, at FROM w WHERE counted AND type = 'click' AND url <> '') x
    GROUP BY lead_id, kind, key
    ORDER BY lead_id, kind, key
    ON CONFLICT (lead_id, kind, key) DO UPDATE
    SET first_at = LEAST(f.first_at, EXCLUDED.first_at),
        last_at  = GREATEST(f.last_at, EXCLUDED.last_at),
        count    = f.count + EXCLUDED.count
), implied AS (
    -- A counted click of a mail implies its open, counted once: only where
    -- the lead has none of that step yet, nor one in this batch.
    INSERT INTO lead_facts (lead_id, kind, key, first_at, last_at, count)
    SELECT DISTINCT ON (lead_id, step_key) lead_id, 'open', step_key, at, at, 1
    FROM w c
    WHERE counted AND type = 'click' AND step_key <> ''
      AND NOT EXISTS (SELECT 1 FROM w o WHERE o.counted AND o.type = 'open' AND o.lead_id = c.lead_id AND o.step_key = c.step_key)
    ORDER BY lead_id, step_key, at
    ON CONFLICT (lead_id, kind, key) DO NOTHING
)
SELECT u.n, COALESCE(w.id, 0) AS id, u.lead_id IS NOT NULL AS known
FROM u LEFT JOIN w ON w.n = u.n
