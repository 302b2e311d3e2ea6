-- Keeps node $1 alive until $2; a node whose row was removed (it was dead
-- for a day) gets it back under the same id.
INSERT INTO relay_nodes (id, started_at, alive_until) VALUES ($1, $2, $2)
ON CONFLICT (id) DO UPDATE SET alive_until = EXCLUDED.alive_until
