-- Counts the turns of route $1 up by one and returns the new count, from
-- 0; the row lock makes concurrent handoffs of one route take turns.
INSERT INTO route_turns (route, turn) VALUES ($1, 0)
ON CONFLICT (route) DO UPDATE SET turn = route_turns.turn + 1
RETURNING turn
