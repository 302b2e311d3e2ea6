-- Node $1 stops at $2: from now on, anything still claimed by it is free
-- for any node to claim.
UPDATE relay_nodes SET alive_until = $2 WHERE id = $1
