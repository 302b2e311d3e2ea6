package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// Batches of one open, as at a quiet hour, must not make Postgres plan the
// statement for every call: after its first five calls it runs the
// generic plan, whatever the batches' sizes.
func TestInsertHits_BatchesOfOneRunTheGenericPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	db := s.DB()
	db.SetMaxOpenConns(1) // one session, whose prepared statements pg_prepared_statements shows
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 12 {
		hits := []store.Hit{{MessageID: int64(1000 + i), Type: "open", Link: -1, At: now, Source: "pixel", Verdict: "human", Reason: "a person"}}
		res, err := s.InsertHits(ctx, hits, store.HitOptions{TrackAll: true, Since: now.Add(-time.Minute), ScanWindow: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Known || res[0].ID != 0 {
			t.Fatalf("hit of no mail: %+v", res)
		}
	}
	var generic, custom int
	if err := db.QueryRowContext(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE '%INSERT INTO events (id, lead_id, type, step_key, url, at, source, message_id%'`).Scan(&generic, &custom); err != nil {
		t.Fatal(err)
	}
	if custom > 5 || generic < 7 {
		t.Errorf("insert_hits ran %d generic and %d custom plans in 12 calls; want every call after the fifth generic", generic, custom)
	}
}
