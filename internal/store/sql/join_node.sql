-- Registers a new relay node alive until $2, started at $1, and returns its
-- id. Nodes dead for a day that no message names any more are removed.
WITH gone AS (
    DELETE FROM relay_nodes n
    WHERE n.alive_until < $1::timestamptz - interval '1 day'
      AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.status = 'sending' AND m.claimed_by = n.id)
)
INSERT INTO relay_nodes (started_at, alive_until) VALUES ($1::timestamptz, $2) RETURNING id
