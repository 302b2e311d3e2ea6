-- Deletes up to $3 unconfirmed leads created before $1 (their tokens, ledger
-- entries and queued mail go with them) and adds them to the anonymous
-- per-day, per-source counts. Returns how many it deleted.
WITH victims AS (
    SELECT id FROM leads
    WHERE status = 'pending' AND created_at < $1
    ORDER BY created_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM leads l USING victims v WHERE l.id = v.id RETURNING l.source
), counted AS (
    INSERT INTO purge_counts (day, source, purged)
    SELECT $2::date, source, count(*) FROM gone GROUP BY source
    ON CONFLICT (day, source) DO UPDATE SET purged = purge_counts.purged + EXCLUDED.purged
)
SELECT count(*) FROM gone
