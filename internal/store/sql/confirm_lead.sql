-- Confirms lead $1 at $2 with $3, what the signup whose link was followed
-- said about the person (confirm_tokens.lead_data). Only a link issued ($4)
-- after the lead last unsubscribed or bounced confirms: an older one
-- changes nothing. The lead's tracking is that signup's answer: a signup
-- that did not ask tracks nothing.
UPDATE leads
SET status = 'confirmed', confirmed_at = $2, unsubscribed_at = NULL, updated_at = $2,
    first_name = coalesce($3::jsonb ->> 'first_name', ''),
    last_name = coalesce($3::jsonb ->> 'last_name', ''),
    source = coalesce($3::jsonb ->> 'source', ''),
    attributes = coalesce($3::jsonb -> 'attributes', '{}'),
    tracking = coalesce(($3::jsonb ->> 'tracking')::boolean, false)
WHERE id = $1 AND status <> 'confirmed' AND (opted_out_at IS NULL OR opted_out_at < $4)
