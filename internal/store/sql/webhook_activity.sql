-- The last $2 counted events of lead $1, newest first.
SELECT e.at, e.type, e.source, coalesce(e.step_key, '') AS step_key, coalesce(e.url, '') AS url
FROM events e
WHERE e.lead_id = $1 AND e.verdict IN ('human', 'image_proxy')
ORDER BY e.at DESC, e.id DESC
LIMIT $2
