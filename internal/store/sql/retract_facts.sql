-- Takes back counted signals whose events turned out a scanner's: a count
-- that falls to nothing removes the fact.
WITH u AS (
    SELECT lead_id, kind, key, url, sum(n)::int AS n
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[]) AS u(lead_id, kind, key, url, n)
    GROUP BY lead_id, kind, key, url
), gone AS (
    DELETE FROM lead_facts f USING u
    WHERE f.lead_id = u.lead_id AND f.kind = u.kind AND f.key = u.key AND f.url = u.url AND f.count <= u.n
)
UPDATE lead_facts f SET count = f.count - u.n
FROM u WHERE f.lead_id = u.lead_id AND f.kind = u.kind AND f.key = u.key AND f.url = u.url AND f.count > u.n
