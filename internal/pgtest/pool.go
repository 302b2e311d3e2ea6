package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"
)

// pool keeps this test binary's migrated databases between their tests.
// A clone costs Postgres checkpoints and a copy of every file of the
// template, and a drop another checkpoint; emptying a used database costs
// a fingerprint of its catalog and a few DELETEs.
var pool struct {
	on   atomic.Bool // set by RunParallel, which drains the pool when the tests end
	mu   sync.Mutex
	free []string  // reset databases, waiting for a test
	snap *snapshot // of the first database the binary got
}

// migrated returns the name of a migrated database that is t's alone until
// t ends: a reset one from the pool, else one another binary handed on,
// else a fresh clone. When t ends it goes back to the pool, reset, or is
// dropped.
func migrated(t testing.TB) string {
	t.Helper()
	if !pool.on.Load() {
		name := create(t, server.template)
		t.Cleanup(func() { dropLogged(t, name) })
		return name
	}
	name := take()
	if name == "" {
		name = claim()
	}
	if name == "" {
		name = create(t, server.template)
	}
	if err := ensureSnapshot(name); err != nil {
		dropLogged(t, name)
		t.Fatalf("pgtest: %v", err)
	}
	pool.mu.Lock()
	snap := pool.snap
	pool.mu.Unlock()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := release(ctx, name, snap); err != nil {
			t.Logf("pgtest: %v", err)
		}
	})
	return name
}

func take() string {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	n := len(pool.free)
	if n == 0 {
		return ""
	}
	name := pool.free[n-1]
	pool.free = pool.free[:n-1]
	return name
}

// ensureSnapshot takes the pool's snapshot off name, a fresh clone or a
// reset database, unless one was taken already.
func ensureSnapshot(name string) error {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.snap != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := openOne(name)
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := takeSnapshot(ctx, db)
	if err != nil {
		return fmt.Errorf("snapshot of the template: %w", err)
	}
	pool.snap = s
	return nil
}

// release takes the database name back from its test. Under a new name
// (so the test's URL reaches nothing any more, as when it was dropped)
// and with every session of the test ended, it is reset for the next test
// if it still holds the schema of snap, or dropped if not. It returns the
// name it is in the pool under, or "" when it was dropped.
func release(ctx context.Context, name string, snap *snapshot) (string, error) {
	next := newName()
	if err := rename(ctx, name, next); err != nil {
		return "", errors.Join(err, drop(ctx, server.admin, name))
	}
	ok, err := reset(ctx, next, snap)
	if err != nil || !ok {
		return "", errors.Join(err, drop(ctx, server.admin, next))
	}
	pool.mu.Lock()
	pool.free = append(pool.free, next)
	pool.mu.Unlock()
	return next, nil
}

// rename ends every session on the database and renames it. A client that
// reconnects in between (a LISTEN loop) is ended once more.
func rename(ctx context.Context, name, next string) error {
	q := "ALTER DATABASE " + pq.QuoteIdentifier(name) + " RENAME TO " + pq.QuoteIdentifier(next)
	for attempt := 1; ; attempt++ {
		if _, err := server.admin.ExecContext(ctx,
			`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name); err != nil {
			return fmt.Errorf("end the sessions on %s: %w", name, err)
		}
		_, err := server.admin.ExecContext(ctx, q)
		if err == nil {
			return nil
		}
		// 55006: sessions still on it.
		if !isCode(err, "55006") || attempt == 5 {
			return fmt.Errorf("rename database %s: %w", name, err)
		}
	}
}

// reset empties the database name and restarts its sequences, and
// reports whether it is fit for another test: it takes connections as
// before and still holds the schema and the seeded rows of snap. An
// error is a failure to find out.
func reset(ctx context.Context, name string, snap *snapshot) (bool, error) {
	var allow bool
	var limit int
	if err := server.admin.QueryRowContext(ctx,
		`SELECT datallowconn, datconnlimit FROM pg_database WHERE datname = $1`, name).Scan(&allow, &limit); err != nil {
		return false, fmt.Errorf("reset %s: %w", name, err)
	}
	if !allow || limit != -1 {
		return false, nil // the test changed who may connect
	}
	db, err := openOne(name)
	if err != nil {
		return false, fmt.Errorf("reset %s: %w", name, err)
	}
	defer db.Close()
	var untouched bool
	var used pq.StringArray
	if err := db.QueryRowContext(ctx, snap.untouched).Scan(&untouched, &used); err != nil {
		untouched = false // a dropped table, say: the fingerprint tells
	}
	if untouched {
		if _, err := db.ExecContext(ctx, resetSQL(used, snap.seqs)); err != nil {
			return false, fmt.Errorf("reset %s: %w", name, err)
		}
		return true, clearCounters(ctx, db)
	}
	ok, err := resetAll(ctx, db, snap)
	if err != nil {
		return false, fmt.Errorf("reset %s: %w", name, err)
	}
	if !ok {
		return false, nil
	}
	return true, clearCounters(ctx, db)
}

// clearCounters clears the statistics counters of db's database, for the
// next reset to read (see untouchedSQL). The deletes of the reset itself
// are added when its session ends; they only count for the tables that
// are empty, where deletes are not read. A role that may not clear them
// gets the full reset every time.
func clearCounters(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `SELECT pg_stat_reset()`); err != nil {
		return ignoreSQL(err)
	}
	return nil
}

// resetAll checks the schema and the seeded rows of db against snap, and
// empties every table.
func resetAll(ctx context.Context, db *sql.DB, snap *snapshot) (bool, error) {
	var schema string
	err := db.QueryRowContext(ctx, fingerprintSQL).Scan(&schema)
	if err != nil || schema != snap.schema {
		return false, ignoreSQL(err) // a query error here is a schema the test changed
	}
	if _, err := db.ExecContext(ctx, snap.reset); err != nil {
		return false, fmt.Errorf("reset: %w", err)
	}
	if snap.seededSQL == "" {
		return true, nil
	}
	var seeded string
	if err := db.QueryRowContext(ctx, snap.seededSQL).Scan(&seeded); err != nil {
		return false, ignoreSQL(err)
	}
	return seeded == snap.seeded, nil
}

// shared starts the names of the reset databases that test binaries hand
// on to each other, followed by the template's name, so that they hold its
// migrations.
const shared = "nurture_pool_"

// sharedPrefix is the LIKE pattern of the shared databases of this
// binary's template.
func sharedPrefix() string {
	return strings.ReplaceAll(shared+strings.TrimPrefix(server.template, "nurture_tpl_")+"_", "_", `\_`) + "%"
}

// drain hands every database in the pool on to the next test binary, or
// drops it when that fails; RunParallel calls it when the tests have
// ended. They are reset already, and their name says which template they
// match.
func drain() {
	pool.mu.Lock()
	free := pool.free
	pool.free = nil
	pool.mu.Unlock()
	if len(free) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range free {
		next := shared + strings.TrimPrefix(server.template, "nurture_tpl_") + "_" + strings.TrimPrefix(name, testPrefix)
		if _, err := server.admin.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(name)+" RENAME TO "+pq.QuoteIdentifier(next)); err != nil {
			drop(ctx, server.admin, name)
		}
	}
}

// claim takes a database another test binary handed on, by renaming it
// to a name of this binary: of binaries that try at once, one succeeds.
// It returns "" when there is none to take.
func claim() string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 3 {
		var name string
		err := server.admin.QueryRowContext(ctx,
			`SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY random() LIMIT 1`, sharedPrefix()).Scan(&name)
		if err != nil {
			return "" // none, or a failure that a clone will report
		}
		next := newName()
		if _, err := server.admin.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(name)+" RENAME TO "+pq.QuoteIdentifier(next)); err == nil {
			return next
		}
		// Another binary took it first.
	}
	return ""
}

// dropStaleShared drops the shared databases of other templates: of
// migrations that have changed since.
func dropStaleShared(ctx context.Context, admin *sql.DB, template string) {
	own := shared + strings.TrimPrefix(template, "nurture_tpl_") + "_"
	for _, n := range databaseNames(ctx, admin, `SELECT datname FROM pg_database WHERE datname LIKE 'nurture\_pool\_%' AND left(datname, length($1)) <> $1`, own) {
		drop(ctx, admin, n)
	}
}

// openOne opens a single connection's pool on the database name.
func openOne(name string) (*sql.DB, error) {
	u, _ := withDB(server.url, name) // checked in setup
	db, err := sql.Open("postgres", u)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// ignoreSQL drops an error the server sent, keeping the others (a lost
// connection, a timeout).
func ignoreSQL(err error) error {
	var pqe *pq.Error
	if errors.As(err, &pqe) {
		return nil
	}
	return err
}

func dropLogged(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := drop(ctx, server.admin, name); err != nil {
		t.Logf("pgtest: %v", err)
	}
}
