SELECT min(t) FROM (
    SELECT min(run_at) AS t FROM messages WHERE status = 'queued'
    UNION ALL
    SELECT min(locked_until) FROM messages WHERE status = 'sending'
) due
