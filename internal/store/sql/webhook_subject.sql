-- Handoff $1 and its lead as they stand now: what its webhook tells.
SELECT h.id, h.lead_id, h.created_at, h.route, h.owner, h.status, h.reason, h.score, h.fit,
    h.engagement, h.decided_at, h.decided_by, h.webhook,
    l.email, l.first_name, l.last_name, l.status AS lead_status, l.stage, l.source, l.attributes,
    l.score AS lead_score, l.fit AS lead_fit, l.engagement AS lead_engagement, l.temperature,
    l.tracking, l.confirmed_at
FROM handoffs h
JOIN leads l ON l.id = h.lead_id
WHERE h.id = $1
