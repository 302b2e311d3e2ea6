-- Appends an event of a lead, such as demo_booked from the admin API, and
-- keeps the facts that conditions read: the event's type, and for a page
-- view its address.
WITH e AS (
    INSERT INTO events (lead_id, type, step_key, url, at)
    VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''), $5)
    RETURNING id
), f AS (
    INSERT INTO lead_facts AS lf (lead_id, kind, key, first_at, last_at)
    SELECT $1, k.kind, k.key, $5, $5
    FROM (VALUES
        ('event', $2::text),
        ('url', CASE WHEN $2 = 'page_view' THEN NULLIF($4::text, '') END)
    ) AS k(kind, key)
    WHERE k.key IS NOT NULL
    ON CONFLICT (lead_id, kind, key) DO UPDATE SET
        first_at = LEAST(lf.first_at, EXCLUDED.first_at),
        last_at = GREATEST(lf.last_at, EXCLUDED.last_at),
        count = lf.count + 1
)
SELECT id FROM e
