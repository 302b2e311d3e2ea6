-- Marks webhook URL $1 gone at $2, after handoff $3's post got a 410. A
-- mark set before stays as it was. Returns a row only when the mark is new.
INSERT INTO webhook_endpoints (url, gone_at, handoff_id)
VALUES ($1, $2, $3)
ON CONFLICT (url) DO NOTHING
RETURNING url
