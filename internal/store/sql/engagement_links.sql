-- The clicks of each link of each step's mails (the mails as in
-- engagement_steps), raw and counted, with the link's text from the
-- mail's link set. The honeypot's hits are a row of their own (honeypot
-- true, no url).
WITH m AS (
    SELECT id, step_key, link_set_id
    FROM messages
    WHERE step_key IS NOT NULL AND sent_at IS NOT NULL
      AND ($1 = '' OR split_part(step_key, '/', 1) = $1)
      AND ($2::timestamptz IS NULL OR sent_at >= $2)
), per_set AS (
    SELECT m.step_key, m.link_set_id, e.type = 'honeypot' AS honeypot, COALESCE(e.url, '') AS url,
           count(*) AS clicks,
           count(*) FILTER (WHERE e.type = 'click' AND e.verdict IN ('human', 'image_proxy')) AS clicks_counted
    FROM m
    JOIN events e ON e.message_id = m.id AND e.type IN ('click', 'honeypot')
    GROUP BY 1, 2, 3, 4
), texts AS (
    SELECT p.*,
           COALESCE((SELECT l->>'text' FROM link_sets s, jsonb_array_elements(s.links) l
                     WHERE s.id = p.link_set_id AND l->>'url' = p.url LIMIT 1), '') AS text
    FROM per_set p
)
SELECT step_key, honeypot, url, text, sum(clicks) AS clicks, sum(clicks_counted) AS clicks_counted
FROM texts
GROUP BY step_key, honeypot, url, text
ORDER BY step_key, sum(clicks_counted) DESC, sum(clicks) DESC, url, text
