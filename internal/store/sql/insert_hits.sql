-- Opens and clicks of a batch, the n-th numbered $1[n], with the lead facts
-- of those that count, in one statement: an open's step, a click's step and
-- URL (one fact). A click writes no open: conditions count a click fact as
-- its mail's open, and a click taken back (a scanner's after all) then
-- takes its open with it. A hit of a mail that is not a
-- lead's is unknown; one whose lead is not tracked ($12 false:
-- NURTURE_TRACKING=consent and the lead did not agree) is not written.
--
-- A quick click ($13[n]) was judged without its mail: its target is looked
-- up here from the mail's link set, whose array counts from 0 where a
-- link's index counts from 1 (no such link: unknown). One judged
-- human ($14[n]) stands only if its mail has no click since $15 (no burst
-- to see) and was delivered at least $16 seconds before (not too soon);
-- otherwise it is deferred: not written, to be judged again with its mail.
-- (The lateral probes events_message_idx per quick click: as an EXISTS,
-- the planner hashed a scan of every recent click of every mail.)
-- The arrays reach unnest through a subquery (OFFSET 0 keeps it one), so
-- that a plan made for the values of one call sees their lengths no more
-- than the generic plan does: seeing a batch of one, it looked the
-- cheaper, and Postgres planned every later batch afresh, which cost it
-- about three times the statement's own work.
-- Returns each hit's number, its id if written, whether it was known, and
-- for known quick clicks whether deferred, the mail's lead and link set,
-- the link's URL, and the set's links unless the caller has them ($17).
WITH u AS (
    SELECT u.n, u.message_id, u.type, u.link, u.at, u.source, u.verdict, u.reason, u.ip_prefix, u.user_agent,
           CASE WHEN u.quick THEN COALESCE(ls.links -> (u.link - 1) ->> 'url', '') ELSE u.url END AS url,
           u.quick, m.lead_id, COALESCE(m.step_key, '') AS step_key, ls.id AS link_set, ls.links,
           l.id IS NOT NULL AND ($12::bool OR l.tracking) AS tracked,
           u.verdict IN ('human', 'image_proxy') AS counted,
           m.lead_id IS NOT NULL AND (NOT u.quick OR COALESCE(u.link >= 1 AND ls.links -> (u.link - 1) ->> 'url' ~ '^https?://', false)) AS known,
           u.quick AND u.quiet AND (
               r.clicked IS NOT NULL
               OR COALESCE(m.sent_at > u.at - make_interval(secs => $16), false)) AS deferred
    FROM (SELECT $1::int[], $2::bigint[], $3::text[], $4::int[], $5::timestamptz[], $6::text[], $7::text[],
                 $8::text[], $9::text[], $10::text[], $11::text[], $13::bool[], $14::bool[] OFFSET 0)
           AS a(n, message_id, type, link, at, source, verdict, reason, ip_prefix, user_agent, url, quick, quiet),
         unnest(a.n, a.message_id, a.type, a.link, a.at, a.source, a.verdict, a.reason, a.ip_prefix, a.user_agent,
                a.url, a.quick, a.quiet)
           AS u(n, message_id, type, link, at, source, verdict, reason, ip_prefix, user_agent, url, quick, quiet)
    LEFT JOIN messages m ON m.id = u.message_id
    LEFT JOIN leads l ON l.id = m.lead_id
    LEFT JOIN link_sets ls ON u.quick AND ls.id = m.link_set_id
    LEFT JOIN LATERAL (SELECT true AS clicked FROM events e
                       WHERE u.quick AND u.quiet AND e.message_id = u.message_id AND e.at >= $15 AND e.source = 'click'
                       LIMIT 1) r ON true
), w AS (
    SELECT nextval('events_id_seq') AS id, n, lead_id, type, step_key, url, at, source, message_id, link,
           verdict, reason, ip_prefix, user_agent, counted
    FROM u WHERE tracked AND known AND NOT deferred
), ins AS (
    INSERT INTO events (id, lead_id, type, step_key, url, at, source, message_id, link, verdict, reason, ip_prefix, user_agent)
    SELECT id, lead_id, type, NULLIF(step_key, ''), NULLIF(url, ''), at, source, message_id, NULLIF(link, -1),
           verdict, reason, ip_prefix, user_agent
    FROM w
), facts AS (
    INSERT INTO lead_facts AS f (lead_id, kind, key, url, first_at, last_at, count)
    SELECT lead_id, type, step_key, CASE WHEN type = 'click' THEN url ELSE '' END AS url, min(at), max(at), count(*)::int
    FROM w
    WHERE counted AND ((type = 'open' AND step_key <> '') OR (type = 'click' AND (step_key <> '' OR url <> '')))
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (lead_id, kind, key, url) DO UPDATE
    SET first_at = LEAST(f.first_at, EXCLUDED.first_at),
        last_at  = GREATEST(f.last_at, EXCLUDED.last_at),
        count    = f.count + EXCLUDED.count
)
SELECT u.n, COALESCE(w.id, 0) AS id, u.known, u.known AND u.deferred AS deferred,
       CASE WHEN u.quick AND u.known THEN u.lead_id ELSE 0 END AS lead_id,
       CASE WHEN u.quick AND u.known THEN u.link_set ELSE 0 END AS link_set,
       CASE WHEN u.quick AND u.known THEN u.url ELSE '' END AS url,
       CASE WHEN u.quick AND u.known AND u.link_set <> ALL($17::bigint[]) THEN u.links END AS links
FROM u LEFT JOIN w ON w.n = u.n
