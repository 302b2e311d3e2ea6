-- Locks the live handoff of lead $1: open (undecided) or accepted and not
-- yet qualified; handoffs_one_live_idx keeps it one at most.
SELECT id, lead_id, created_at, route, owner, status, reason, score, fit, engagement,
       decided_at, decided_by, webhook
FROM handoffs WHERE lead_id = $1 AND status IN ('open', 'accepted')
FOR UPDATE
