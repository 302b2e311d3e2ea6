-- +goose Up

-- A handoff is withdrawn when the admin API moves its lead back to stage
-- lead, by hand rather than by a decision of sales: the lead is no longer
-- sales's, and when it becomes an MQL again it gets a handoff of its own.
ALTER TABLE handoffs DROP CONSTRAINT handoffs_status_check;
ALTER TABLE handoffs ADD CONSTRAINT handoffs_status_check
    CHECK (status IN ('open', 'accepted', 'rejected', 'qualified', 'withdrawn'));

-- A lead the API moved back to lead before this kept its live handoff,
-- which kept it from getting one when it next became an MQL.
UPDATE handoffs h SET status = 'withdrawn', reason = 'stage lead set through the API',
    decided_by = 'api', decided_at = now()
FROM leads l
WHERE l.id = h.lead_id AND l.stage = 'lead' AND h.status IN ('open', 'accepted');

-- +goose Down
UPDATE handoffs SET status = 'rejected' WHERE status = 'withdrawn';
ALTER TABLE handoffs DROP CONSTRAINT handoffs_status_check;
ALTER TABLE handoffs ADD CONSTRAINT handoffs_status_check
    CHECK (status IN ('open', 'accepted', 'rejected', 'qualified'));
