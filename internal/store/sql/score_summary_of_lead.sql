-- The score ledger of lead $1 summed by rule, signal and kind, the largest
-- first: why the lead stands where it does, in short.
SELECT kind, rule, signal, max(note) AS note, sum(points)::int AS points, count(*)::int AS times,
       max(at) AS last_at
FROM score_entries
WHERE lead_id = $1
GROUP BY kind, rule, signal
HAVING sum(points) <> 0
ORDER BY kind, abs(sum(points)) DESC, rule, signal
