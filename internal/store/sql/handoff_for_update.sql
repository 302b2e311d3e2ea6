-- Locks handoff $1 for a decision.
SELECT id, lead_id, created_at, route, owner, status, reason, score, fit, engagement,
       decided_at, decided_by, webhook
FROM handoffs WHERE id = $1
FOR UPDATE
