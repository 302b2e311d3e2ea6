-- Marks lead $1 recycled at $2: it becomes an MQL again only on
-- engagement earned after it.
UPDATE leads SET recycled_at = $2, updated_at = $2 WHERE id = $1
