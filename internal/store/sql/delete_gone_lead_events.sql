-- Deletes the events and facts of those of leads $1 that are gone: events
-- written while their lead was being erased, which the erasing trigger on
-- leads could not see yet (see migration 0017).
WITH gone AS (
    SELECT id FROM unnest($1::bigint[]) AS u(id)
    WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = u.id)
), facts AS (
    DELETE FROM lead_facts WHERE lead_id IN (SELECT id FROM gone)
)
DELETE FROM events WHERE lead_id IN (SELECT id FROM gone)
