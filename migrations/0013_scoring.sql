-- +goose Up

-- The daily refresh of decaying scores walks the leads whose stored score
-- is oldest, so its cost follows the leads it refreshes.
CREATE INDEX leads_score_at_idx ON leads (score_at) WHERE score_at IS NOT NULL;

-- +goose Down
DROP INDEX leads_score_at_idx;
