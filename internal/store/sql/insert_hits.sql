-- Opens and clicks of a batch, the n-th row numbered $1[n]. A row whose
-- lead is gone, or is not tracked ($14 false: NURTURE_TRACKING=consent and
-- the lead did not agree), is left out. Returns the numbers written and
-- their ids.
WITH u AS (
    SELECT nextval('events_id_seq') AS id, u.*
    FROM unnest($1::int[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[],
                $8::bigint[], $9::int[], $10::text[], $11::text[], $12::text[], $13::text[])
           AS u(n, lead_id, type, step_key, url, at, source, message_id, link, verdict, reason, ip_prefix, user_agent)
    JOIN leads l ON l.id = u.lead_id AND ($14::bool OR l.tracking)
), ins AS (
    INSERT INTO events (id, lead_id, type, step_key, url, at, source, message_id, link, verdict, reason, ip_prefix, user_agent)
    SELECT id, lead_id, type, NULLIF(step_key, ''), NULLIF(url, ''), at, source, message_id,
           NULLIF(link, -1), verdict, reason, ip_prefix, user_agent
    FROM u
)
SELECT n, id FROM u
