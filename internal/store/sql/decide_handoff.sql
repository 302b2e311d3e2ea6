-- Records a decision of sales on handoff $1: its new status $2, the reason
-- $3 (a rejection's), who decided ($4) and when ($5).
UPDATE handoffs SET status = $2, reason = $3, decided_by = $4, decided_at = $5
WHERE id = $1
