-- The counted opens and clicks already scored of lead $1 in the mails $2:
-- a mail opened once, or a link clicked once, earns nothing again.
SELECT DISTINCT source, message_id, COALESCE(link, -1) AS link FROM events
WHERE lead_id = $1 AND message_id = ANY($2::bigint[]) AND scored_at IS NOT NULL
  AND verdict IN ('human', 'image_proxy') AND source IN ('pixel', 'click')
