-- Opens a handoff; none when the lead has a live one already
-- (handoffs_one_live_idx).
INSERT INTO handoffs (lead_id, created_at, route, owner, score, fit, engagement)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (lead_id) WHERE status IN ('open', 'accepted') DO NOTHING
RETURNING id, lead_id, created_at, route, owner, status, reason, score, fit, engagement, decided_at, decided_by, webhook
