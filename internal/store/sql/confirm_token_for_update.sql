SELECT t.lead_id, t.signup_event_id, t.created_at, t.expires_at, t.lead_data,
    l.status, l.email, l.confirm_mailed_at, l.opted_out_at
FROM confirm_tokens t JOIN leads l ON l.id = t.lead_id
WHERE t.hash = $1
FOR NO KEY UPDATE OF l
