-- Takes digest slot $1 for the sender at $2 with $3 mails; no row comes
-- back when another node (or an earlier run) took it.
INSERT INTO handoff_digests (slot, sent_at, mails) VALUES ($1, $2, $3)
ON CONFLICT (slot) DO NOTHING
RETURNING slot
