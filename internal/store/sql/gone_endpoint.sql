-- The 410 mark of webhook URL $1, the one scoring.yaml names now: when it
-- answered and to which handoff. The marks of every other URL are
-- forgotten, since scoring.yaml has moved on from them. No row: not gone.
WITH forget AS (
    DELETE FROM webhook_endpoints WHERE url <> $1
)
SELECT url, gone_at, handoff_id FROM webhook_endpoints WHERE url = $1
