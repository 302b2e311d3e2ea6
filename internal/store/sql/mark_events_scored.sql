UPDATE events SET scored_at = $2 WHERE id = ANY($1::bigint[])
