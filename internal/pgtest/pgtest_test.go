package pgtest_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
)

func dbName(t testing.TB, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(p.Path, "/")
}

func TestNewDB_MigratedAndIsolated(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, urlA := pgtest.NewDB(t)
	b, urlB := pgtest.NewDB(t)
	if urlA == urlB {
		t.Fatalf("both databases have the URL %s", urlA)
	}
	for _, db := range []*sql.DB{a.DB, b.DB} {
		current, err := store.MigrationsCurrent(ctx, db)
		if err != nil || !current {
			t.Fatalf("MigrationsCurrent = %v, %v; want true", current, err)
		}
	}

	now := time.Now()
	if _, err := a.ExecContext(ctx, `INSERT INTO leads (email, status, created_at, updated_at) VALUES ('a@example.com', 'pending', $1, $1)`, now); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.GetContext(ctx, &n, `SELECT count(*) FROM leads`); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the second database sees %d leads of the first", n)
	}
	if err := a.GetContext(ctx, &n, `SELECT count(*) FROM leads`); err != nil || n != 1 {
		t.Errorf("the first database has %d leads (%v), want 1", n, err)
	}
}

func TestNewDB_URLReachesTheSameDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, u := pgtest.NewDB(t)
	other, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var a, b string
	if err := db.GetContext(ctx, &a, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	if err := other.GetContext(ctx, &b, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	if a != b || a != dbName(t, u) {
		t.Errorf("pool is on %q, URL on %q, URL names %q", a, b, dbName(t, u))
	}
}

// Whether the database was dropped or went back to the pool under a new
// name, nothing is called by its test's name once the test has ended.
func TestNewDB_GoneAfterTheTest(t *testing.T) {
	t.Parallel()
	var name, listenURL string
	t.Run("uses", func(t *testing.T) {
		_, u := pgtest.NewDB(t)
		name = dbName(t, u)
		listenURL = u
		// A connection the test leaves open, as a LISTEN loop would.
		c, err := store.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	})
	admin, _ := pgtest.NewDB(t)
	var n int
	if err := admin.GetContext(t.Context(), &n, `SELECT count(*) FROM pg_database WHERE datname = $1`, name); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s of %s still exists after its test", name, listenURL)
	}
}

func TestEmptyURL_HasNoMigrations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, err := store.Open(ctx, pgtest.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'leads'`); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("an empty database has a leads table")
	}
	applied, err := store.Migrate(ctx, db.DB)
	if err != nil || applied == 0 {
		t.Fatalf("Migrate = %d, %v; want some applied", applied, err)
	}
}

func TestNewDB_ManyInParallel(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			db, _ := pgtest.NewDB(t)
			if _, err := db.ExecContext(t.Context(), `CREATE TABLE probe (n int)`); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// BenchmarkNewDB times NewDB: a clone and its first connection, since the
// databases go back to the pool only when the benchmark ends, outside the
// timing.
func BenchmarkNewDB(b *testing.B) {
	pgtest.URL(b) // sets up the server and the template
	for b.Loop() {
		pgtest.NewDB(b)
	}
}

func BenchmarkNewDB_Parallel(b *testing.B) {
	pgtest.URL(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			pgtest.NewDB(b)
		}
	})
}

func TestMain(m *testing.M) { os.Exit(pgtest.RunParallel(m, 8)) }
