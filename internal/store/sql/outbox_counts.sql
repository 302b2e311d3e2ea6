SELECT status, count(*) AS n, coalesce(sum(repeats), 0) AS repeats FROM messages GROUP BY status
