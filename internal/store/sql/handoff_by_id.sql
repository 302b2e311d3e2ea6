-- One handoff with its lead.
SELECT h.id, h.lead_id, h.created_at, h.route, h.owner, h.status, h.reason, h.score, h.fit,
       h.engagement, h.decided_at, h.decided_by, h.webhook,
       l.email, l.first_name, l.last_name, l.stage, l.attributes,
       (SELECT count(*) FROM webhook_attempts a WHERE a.handoff_id = h.id) AS webhook_attempts
FROM handoffs h
JOIN leads l ON l.id = h.lead_id
WHERE h.id = $1
