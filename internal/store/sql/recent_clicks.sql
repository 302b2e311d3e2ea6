-- The clicks of these messages since $2, for burst and honeypot verdicts;
-- FOR UPDATE so that a burst re-marks rows no other batch is changing.
SELECT id, message_id, COALESCE(link, -1) AS link, type = 'honeypot' AS honeypot, at, verdict,
       lead_id, COALESCE(step_key, '') AS step_key, COALESCE(url, '') AS url
FROM events
WHERE message_id = ANY($1::bigint[]) AND source = 'click' AND at >= $2
ORDER BY id
FOR UPDATE
