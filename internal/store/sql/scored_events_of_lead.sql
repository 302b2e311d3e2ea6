-- Every event of lead $1 that scoring has taken, in the order it took
-- them, for a replay under the current scoring.yaml.
SELECT id, lead_id, type, source, COALESCE(step_key, '') AS step_key, COALESCE(url, '') AS url,
       COALESCE(message_id, 0) AS message_id, COALESCE(link, -1) AS link, verdict, at
FROM events
WHERE lead_id = $1 AND scored_at IS NOT NULL
ORDER BY at, id
