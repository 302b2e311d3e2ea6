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

// failOnce makes the first update of table that matches when (a WHEN
// clause, or "" for every row) fail, as a database away for a moment does.
func failOnce(db *sqlx.DB, table, when string) {
	db.MustExec(`CREATE SEQUENCE fail_once`)
	db.MustExec(`CREATE FUNCTION fail_once() RETURNS trigger AS $$
		BEGIN
			IF nextval('fail_once') = 1 THEN RAISE EXCEPTION 'injected failure'; END IF;
			RETURN NEW;
		END $$ LANGUAGE plpgsql`)
	db.MustExec(`CREATE TRIGGER fail_once BEFORE UPDATE ON ` + table + ` FOR EACH ROW ` + when + ` EXECUTE FUNCTION fail_once()`)
}

// FailOnce is failOnce for the tests outside the package.
var FailOnce = failOnce

// get runs a query of the test's own into dest, failing the test on error.
func get(t *testing.T, db *sqlx.DB, dest any, query string, args ...any) {
	t.Helper()
	if err := db.Get(dest, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
