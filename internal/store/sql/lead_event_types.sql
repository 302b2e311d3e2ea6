-- The types of a lead's counted API and website events, in lower case: the
-- events of scoring's conditions, which match types ignoring case.
SELECT DISTINCT lower(type) AS type FROM events
WHERE lead_id = $1 AND verdict IN ('human', 'image_proxy') AND source IN ('api', 'site')
ORDER BY 1
