-- The engagement of each step's mails: the mails of sequence $1 ('' for
-- every sequence) delivered since $2 (NULL for ever), and the opens and
-- clicks they drew, raw and counted (verdict human or image_proxy). A mail
-- clicked (counted) with no counted open adds one counted open. Each
-- mail's events are found through events_message_idx.
WITH m AS (
    SELECT id, lead_id, step_key
    FROM messages
    WHERE step_key IS NOT NULL AND sent_at IS NOT NULL
      AND ($1 = '' OR split_part(step_key, '/', 1) = $1)
      AND ($2::timestamptz IS NULL OR sent_at >= $2)
), per_mail AS (
    SELECT m.id, m.lead_id, m.step_key,
           count(e.id) FILTER (WHERE e.type = 'open') AS opens,
           count(e.id) FILTER (WHERE e.type = 'open' AND e.verdict IN ('human', 'image_proxy')) AS opens_counted,
           count(e.id) FILTER (WHERE e.type IN ('click', 'honeypot')) AS clicks,
           count(e.id) FILTER (WHERE e.type = 'click' AND e.verdict IN ('human', 'image_proxy')) AS clicks_counted,
           count(e.id) FILTER (WHERE e.verdict = 'human') AS human,
           count(e.id) FILTER (WHERE e.verdict = 'image_proxy') AS image_proxy,
           count(e.id) FILTER (WHERE e.verdict = 'apple_mpp') AS apple_mpp,
           count(e.id) FILTER (WHERE e.verdict = 'scanner') AS scanner,
           count(e.id) FILTER (WHERE e.verdict = 'prefetch') AS prefetch
    FROM m
    LEFT JOIN events e ON e.message_id = m.id AND e.type IN ('open', 'click', 'honeypot')
    GROUP BY m.id, m.lead_id, m.step_key
)
SELECT step_key,
       count(*) AS sent,
       sum(opens) AS opens,
       sum(opens_counted) + count(*) FILTER (WHERE opens_counted = 0 AND clicks_counted > 0) AS opens_counted,
       sum(clicks) AS clicks,
       sum(clicks_counted) AS clicks_counted,
       count(DISTINCT lead_id) FILTER (WHERE opens_counted > 0 OR clicks_counted > 0) AS openers,
       count(DISTINCT lead_id) FILTER (WHERE clicks_counted > 0) AS clickers,
       sum(human) AS human, sum(image_proxy) AS image_proxy, sum(apple_mpp) AS apple_mpp,
       sum(scanner) AS scanner, sum(prefetch) AS prefetch
FROM per_mail
GROUP BY step_key
ORDER BY step_key
