package pgtest

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
)

// These tests look into the pool; they take the database they released
// back out of it by name (remove), since a test beside them may have put
// others in.

// remove takes name out of the pool and reports whether it was there.
func remove(name string) bool {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	for i, n := range pool.free {
		if n == name {
			pool.free = append(pool.free[:i], pool.free[i+1:]...)
			return true
		}
	}
	return false
}

// used is a database as a test leaves it: two leads (ids 1 and 2, in a
// table that others refer to), and a session still open on it.
func used(t *testing.T, db *sql.DB) {
	t.Helper()
	now := time.Now()
	for _, e := range []string{"a@example.com", "b@example.com"} {
		run(t, db, `INSERT INTO leads (email, status, created_at, updated_at) VALUES ($1, 'pending', $2, $2)`, e, now)
	}
}

func run(t *testing.T, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func open(t *testing.T, name string) *sql.DB {
	t.Helper()
	db, err := openOne(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exists(t *testing.T, name string) bool {
	t.Helper()
	var n int
	if err := server.admin.QueryRow(`SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestRelease_KeepsTheDatabaseEmptiedOrDropsItWhenTheTestChangedIt(t *testing.T) {
	ready(t)
	tests := []struct {
		name string
		use  func(t *testing.T, db *sql.DB, name string)
		kept bool
	}{
		{"rows, sequences and an open session", func(t *testing.T, db *sql.DB, _ string) { used(t, db) }, true},
		{"a constraint added and dropped again", func(t *testing.T, db *sql.DB, _ string) {
			run(t, db, `ALTER TABLE leads ADD CONSTRAINT refuse CHECK (false) NOT VALID`)
			run(t, db, `ALTER TABLE leads DROP CONSTRAINT refuse`)
		}, true},
		{"a table added", func(t *testing.T, db *sql.DB, _ string) { run(t, db, `CREATE TABLE probe (n int)`) }, false},
		{"a column added", func(t *testing.T, db *sql.DB, _ string) { run(t, db, `ALTER TABLE leads ADD COLUMN x int`) }, false},
		{"an index added", func(t *testing.T, db *sql.DB, _ string) { run(t, db, `CREATE INDEX probe ON leads (email, id)`) }, false},
		{"a trigger disabled", func(t *testing.T, db *sql.DB, _ string) {
			run(t, db, `ALTER TABLE consent_events DISABLE TRIGGER consent_events_no_update`)
		}, false},
		{"a function replaced", func(t *testing.T, db *sql.DB, _ string) {
			run(t, db, `CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql`)
		}, false},
		{"the last migration unrecorded", func(t *testing.T, db *sql.DB, _ string) {
			run(t, db, `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`)
		}, false},
		{"the goose table dropped", func(t *testing.T, db *sql.DB, _ string) { run(t, db, `DROP TABLE goose_db_version`) }, false},
		{"a setting of the database's own", func(t *testing.T, _ *sql.DB, name string) {
			run(t, server.admin, `ALTER DATABASE `+pq.QuoteIdentifier(name)+` SET work_mem = '8MB'`)
		}, false},
		{"connections refused", func(t *testing.T, _ *sql.DB, name string) {
			run(t, server.admin, `ALTER DATABASE `+pq.QuoteIdentifier(name)+` WITH ALLOW_CONNECTIONS false`)
		}, false},
	}
	for _, tt := range tests {
		for _, again := range []bool{false, true} {
			name := tt.name
			if again {
				name += ", in a database reset before"
			}
			t.Run(name, func(t *testing.T) { releaseAfter(t, tt.use, tt.kept, again) })
		}
	}
}

// handOff keeps the tests beside one from taking the database it has just
// released before it finds it in the pool.
var handOff sync.Mutex

// releaseAfter releases a database that use changed, a fresh clone or
// (again) one reset before, and checks that it was kept, emptied, or
// dropped.
func releaseAfter(t *testing.T, use func(t *testing.T, db *sql.DB, name string), want, again bool) {
	t.Parallel()
	var name string
	if again {
		handOff.Lock()
		name = take() // reset before, by the tests beside this one
		handOff.Unlock()
	}
	if name == "" {
		name = create(t, server.template)
		t.Cleanup(func() { dropLogged(t, name) }) // should release fail
		if err := ensureSnapshot(name); err != nil {
			t.Fatal(err)
		}
		if again {
			name = resetOnce(t, name)
		}
	} else {
		t.Cleanup(func() { dropLogged(t, name) })
		untouched(t, name)
	}
	db := open(t, name)
	use(t, db, name)
	handOff.Lock()
	kept, err := release(context.Background(), name, pool.snap)
	pooled := kept != "" && remove(kept)
	handOff.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if exists(t, name) {
		t.Errorf("the database is still called %s after its test", name)
	}
	if want != (kept != "") {
		t.Fatalf("kept as %q, want kept %v", kept, want)
	}
	if kept == "" {
		return
	}
	if !pooled {
		t.Fatalf("%s is not in the pool", kept)
	}
	t.Cleanup(func() { dropLogged(t, kept) })
	if err := db.Ping(); err == nil {
		t.Error("the test's session still works after release")
	}
	fresh(t, open(t, kept))
}

// resetOnce releases the unused database name and takes it back out of
// the pool; its next release may then skip the fingerprint, and does
// unless its test changes it.
func resetOnce(t *testing.T, name string) string {
	t.Helper()
	handOff.Lock()
	kept, err := release(context.Background(), name, pool.snap)
	pooled := kept != "" && remove(kept)
	handOff.Unlock()
	if err != nil || !pooled {
		t.Fatalf("an unused database: kept as %q, %v", kept, err)
	}
	t.Cleanup(func() { dropLogged(t, kept) })
	untouched(t, kept)
	return kept
}

// untouched fails t unless the counters of the database name, reset
// before, say that it needs no fingerprint and no table emptied.
func untouched(t *testing.T, name string) {
	t.Helper()
	db := open(t, name)
	var ok bool
	var used pq.StringArray
	if err := db.QueryRow(pool.snap.untouched).Scan(&ok, &used); err != nil || !ok || len(used) != 0 {
		var may bool
		if err := db.QueryRow(`SELECT has_function_privilege('pg_stat_reset()', 'EXECUTE')`).Scan(&may); err != nil {
			t.Fatal(err)
		} else if !may {
			t.Skip("the role may not clear the statistics counters: every reset is a full one")
		}
		t.Fatalf("after a reset: untouched %v, tables to empty %q, %v; want untouched and none", ok, used, err)
	}
	db.Close()
}

// fresh fails t unless db holds no leads, and its next lead is number 1.
func fresh(t *testing.T, db *sql.DB) {
	t.Helper()
	var leads int
	if err := db.QueryRow(`SELECT count(*) FROM leads`).Scan(&leads); err != nil {
		t.Fatal(err)
	}
	if leads != 0 {
		t.Errorf("%d leads left for the next test", leads)
	}
	var id int64
	if err := db.QueryRow(`INSERT INTO leads (email, status, created_at, updated_at) VALUES ('c@example.com', 'pending', now(), now()) RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if id != 1 {
		t.Errorf("the next lead is number %d, want 1", id)
	}
}

// Rows the migrations insert stay, and a database that lost them is
// dropped.
func TestRelease_SeededRowsStayAndADatabaseThatLostThemIsDropped(t *testing.T) {
	ready(t)
	// A template whose migrations seeded purge_counts and advanced the
	// leads' sequence.
	tpl := create(t, server.template)
	t.Cleanup(func() { dropLogged(t, tpl) })
	seed := open(t, tpl)
	run(t, seed, `INSERT INTO purge_counts (day, source, purged) VALUES ('2026-01-01', 'seed', 3)`)
	run(t, seed, `SELECT setval('leads_id_seq', 41)`)
	snap, err := takeSnapshot(context.Background(), seed)
	if err != nil {
		t.Fatal(err)
	}
	seed.Close()

	for _, lose := range []bool{false, true} {
		name := create(t, tpl)
		t.Cleanup(func() { dropLogged(t, name) }) // should release fail
		db := open(t, name)
		used(t, db)
		if lose {
			run(t, db, `DELETE FROM purge_counts`)
		}
		kept, err := release(context.Background(), name, snap)
		if err != nil {
			t.Fatal(err)
		}
		if lose {
			if kept != "" {
				t.Errorf("a database that lost its seeded rows was kept as %s", kept)
			}
			continue
		}
		if kept == "" || !remove(kept) {
			t.Fatalf("kept as %q; want it kept in the pool", kept)
		}
		t.Cleanup(func() { dropLogged(t, kept) })
		db = open(t, kept)
		var purged int
		var id int64
		if err := db.QueryRow(`SELECT purged FROM purge_counts WHERE source = 'seed'`).Scan(&purged); err != nil || purged != 3 {
			t.Errorf("seeded row: purged %d, %v; want 3", purged, err)
		}
		if err := db.QueryRow(`INSERT INTO leads (email, status, created_at, updated_at) VALUES ('c@example.com', 'pending', now(), now()) RETURNING id`).Scan(&id); err != nil || id != 42 {
			t.Errorf("the next lead is %d (%v), want 42: the template's sequence", id, err)
		}
	}
}
