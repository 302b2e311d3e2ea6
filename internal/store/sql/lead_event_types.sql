-- The types of a lead's counted API and website events: the events of
-- scoring's conditions.
SELECT DISTINCT type FROM events
WHERE lead_id = $1 AND verdict IN ('human', 'image_proxy') AND source IN ('api', 'site')
ORDER BY type
