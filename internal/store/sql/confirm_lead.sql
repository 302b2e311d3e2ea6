-- Confirms lead $1 at $2 with $3, what the signup whose link was followed
-- said about the person (confirm_tokens.lead_data).
UPDATE leads
SET status = 'confirmed', confirmed_at = $2, unsubscribed_at = NULL, updated_at = $2,
    first_name = coalesce($3::jsonb ->> 'first_name', ''),
    last_name = coalesce($3::jsonb ->> 'last_name', ''),
    source = coalesce($3::jsonb ->> 'source', ''),
    attributes = coalesce($3::jsonb -> 'attributes', '{}')
WHERE id = $1 AND status <> 'confirmed'
