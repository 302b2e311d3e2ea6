SELECT id, lead_id, at, kind, rule, line, signal, ref, note, COALESCE(event_id, 0) AS event_id, points
FROM score_entries WHERE lead_id = $1
ORDER BY at, id
