-- Clicks found to be part of a scanner's burst after they were recorded.
UPDATE events SET verdict = 'scanner', reason = $2
WHERE id = ANY($1::bigint[]) AND verdict NOT IN ('scanner', 'prefetch')
