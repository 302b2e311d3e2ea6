-- When the next message falls due: the earliest queued one, the earliest
-- lease to run out, or the earliest end of life of a node holding mail.
SELECT min(t) FROM (
    SELECT min(run_at) AS t FROM messages WHERE status = 'queued'
    UNION ALL
    SELECT min(locked_until) FROM messages WHERE status = 'sending'
    UNION ALL
    SELECT min(n.alive_until) FROM relay_nodes n
    WHERE EXISTS (SELECT 1 FROM messages m WHERE m.status = 'sending' AND m.claimed_by = n.id)
) due
