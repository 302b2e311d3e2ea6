-- Claims up to $2 events that scoring has not taken yet, oldest first,
-- skipping those another node holds. Opens and clicks wait until they are
-- older than $1 (now less the burst window), since a burst of clicks can
-- still turn them into a scanner's; every other event is taken at once.
SELECT id, lead_id, type, source, COALESCE(step_key, '') AS step_key, COALESCE(url, '') AS url,
       COALESCE(message_id, 0) AS message_id, COALESCE(link, -1) AS link, verdict, at
FROM events
WHERE scored_at IS NULL AND (source NOT IN ('pixel', 'click') OR at < $1)
ORDER BY id
LIMIT $2
FOR UPDATE SKIP LOCKED
