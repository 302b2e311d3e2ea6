-- Deletes up to $3 leads that never confirmed (pending ones, and those that
-- unsubscribed or bounced before confirming) whose first signup and last
-- confirmation mail are both older than $1, and adds them to the anonymous
-- per-day ($2), per-source counts. Their tokens, ledger entries and mail go
-- with them; their suppressions, kept by address hash, stay. The victims
-- come from leads_unconfirmed_idx in its order and are deleted by id, so
-- the cost follows what is deleted. Returns how many it deleted.
WITH victims AS (
    SELECT id FROM leads
    WHERE confirmed_at IS NULL AND GREATEST(created_at, confirm_mailed_at) < $1
    ORDER BY GREATEST(created_at, confirm_mailed_at)
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), gone AS (
    -- An array, not a join: a join is planned for LIMIT victims and may
    -- read all of leads to find a few.
    DELETE FROM leads WHERE id = ANY (ARRAY(SELECT id FROM victims)) RETURNING source
), counted AS (
    INSERT INTO purge_counts (day, source, purged)
    SELECT $2::date, source, count(*) FROM gone GROUP BY source
    ON CONFLICT (day, source) DO UPDATE SET purged = purge_counts.purged + EXCLUDED.purged
)
SELECT count(*) FROM gone
