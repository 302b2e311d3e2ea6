package outbox

import (
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/clock"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
)

// storeAt is what a test of one stage needs: a store on a fresh database,
// the database itself for the test's own queries, and a fake clock.
func storeAt(t *testing.T) (*sqlx.DB, *store.Store, *clock.Fake) {
	t.Helper()
	st, db := pgtest.NewStore(t)
	return db, st, clock.NewFake(time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC))
}

// get runs a query of the test's own into dest, failing the test on error.
func get(t *testing.T, db *sqlx.DB, dest any, query string, args ...any) {
	t.Helper()
	if err := db.Get(dest, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
