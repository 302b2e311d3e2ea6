-- A bounce outranks any earlier reason: a hard-bounced address gets no
-- mail at all, not even a confirmation mail (see claim_messages.sql).
INSERT INTO suppressions (email_hash, reason, created_at) VALUES ($1, $2, $3)
ON CONFLICT (email_hash) DO UPDATE SET reason = EXCLUDED.reason, created_at = EXCLUDED.created_at
WHERE EXCLUDED.reason = 'bounce' AND suppressions.reason <> 'bounce'
