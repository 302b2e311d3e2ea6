package pgtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/migrations"
)

// EnvURL names the variable that points the tests at a running server.
const EnvURL = "NURTURE_TEST_DATABASE_URL"

// testPrefix starts the name of every database a test gets; the pid of the
// test binary and a counter follow, so a crashed binary's leftovers can be
// told apart from a running one's.
const testPrefix = "nurture_test_"

// templateLock is the advisory lock key held while a template is built.
const templateLock int64 = 0x6e75727475726501

// server is the Postgres server of this test binary, set up once.
var server struct {
	once     sync.Once
	err      error
	url      string  // the server's URL, naming a database to connect to for admin work
	admin    *sql.DB // pool on url
	template string  // name of the migrated template database
	strategy string  // added to CREATE DATABASE
}

// ready sets the server up on first use and fails t if that failed.
func ready(t testing.TB) {
	t.Helper()
	server.once.Do(func() { server.err = setup() })
	if server.err != nil {
		t.Fatalf("pgtest: %v", server.err)
	}
}

var seq atomic.Int64

// NewDB returns a pool on a database of the test's own that holds every
// migration and no rows (but those the migrations insert), its sequences
// at their start, and its URL for code that opens its own connections (to
// LISTEN, say). When the test ends, connections or not, the URL stops
// reaching the database: it is dropped, or, under RunParallel, renamed,
// emptied and kept for the next test (see the package comment).
func NewDB(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	u := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u
}

// NewStore returns the store on a fresh database (see NewDB), its queries
// prepared, and the pool under it; both are closed when the test ends.
func NewStore(t testing.TB) (*store.Store, *sqlx.DB) {
	t.Helper()
	db, _ := NewDB(t)
	st, err := store.New(context.Background(), db)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st, db
}

// URL returns the URL of a database like NewDB's.
func URL(t testing.TB) string {
	t.Helper()
	ready(t)
	u, _ := withDB(server.url, migrated(t)) // checked in setup
	return u
}

// EmptyURL returns the URL of a fresh database with no migrations applied,
// dropped when the test ends: for tests of migrating itself.
func EmptyURL(t testing.TB) string {
	t.Helper()
	ready(t)
	name := create(t, "template0")
	t.Cleanup(func() { dropLogged(t, name) })
	u, _ := withDB(server.url, name) // checked in setup
	return u
}

func setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	u, managed := os.Getenv(EnvURL), false
	if u == "" {
		var err error
		if u, err = startCluster(ctx); err != nil {
			return fmt.Errorf("no %s set, and starting a throwaway cluster failed: %w", EnvURL, err)
		}
		managed = true
	}
	if _, err := withDB(u, "x"); err != nil {
		return err
	}
	admin, err := sql.Open("postgres", u)
	if err != nil {
		return fmt.Errorf("open %s: %w", redact(u), err)
	}
	admin.SetMaxOpenConns(8)
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return fmt.Errorf("connect to %s: %w", redact(u), err)
	}
	if managed {
		// Only here is every client of the server on this machine, so only
		// here does a dead pid mean a dead owner.
		dropOrphans(ctx, admin)
	}
	// Copying the files of our small template takes a third of the time
	// of WAL_LOG, Postgres 15's default, which writes it all to the WAL.
	var version int
	if err := admin.QueryRowContext(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		admin.Close()
		return fmt.Errorf("server version: %w", err)
	}
	if version >= 150000 {
		server.strategy = " STRATEGY FILE_COPY"
	}
	tpl, err := ensureTemplate(ctx, admin, u)
	if err != nil {
		admin.Close()
		return err
	}
	server.url, server.admin, server.template = u, admin, tpl
	dropStaleShared(ctx, admin, tpl)
	return nil
}

// newName returns a database name no one has used.
func newName() string {
	return fmt.Sprintf("%s%d_%d", testPrefix, os.Getpid(), seq.Add(1))
}

// create clones template into a new database and returns its name.
func create(t testing.TB, template string) string {
	t.Helper()
	name := newName()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	q := "CREATE DATABASE " + pq.QuoteIdentifier(name) + " TEMPLATE " + pq.QuoteIdentifier(template) + server.strategy
	for delay := 10 * time.Millisecond; ; delay *= 2 {
		_, err := server.admin.ExecContext(ctx, q)
		if err == nil {
			break
		}
		// 55006: a session is still connected to the template (one that
		// migrated it may take a moment to go).
		if !isCode(err, "55006") || delay > 5*time.Second {
			t.Fatalf("pgtest: create database from %s: %v", template, err)
		}
		time.Sleep(delay)
	}
	return name
}

func drop(ctx context.Context, db *sql.DB, name string) error {
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// ensureTemplate returns the name of the template database for the current
// migrations, building it if no one has.
func ensureTemplate(ctx context.Context, admin *sql.DB, serverURL string) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "nurture_tpl_" + sum[:12]
	_, ready, err := templateState(ctx, admin, name)
	if err != nil || ready {
		return name, err
	}

	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", fmt.Errorf("template: lock: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", templateLock); err != nil {
			// Keep the session, and so its lock, out of the pool.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	exists, ready, err := templateState(ctx, conn, name)
	if err != nil || ready {
		return name, err
	}
	if exists {
		// A build that died half way.
		if err := drop(ctx, admin, name); err != nil {
			return "", fmt.Errorf("template: %w", err)
		}
	}
	if err := buildTemplate(ctx, conn, serverURL, name); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return name, nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// templateState reports whether the database exists and whether it is
// complete; a complete one is marked as a template, the last build step.
func templateState(ctx context.Context, db execer, name string) (exists, ready bool, err error) {
	err = db.QueryRowContext(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", name).Scan(&ready)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("template: %w", err)
	}
	return true, ready, nil
}

func buildTemplate(ctx context.Context, conn execer, serverURL, name string) error {
	qname := pq.QuoteIdentifier(name)
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+qname+" TEMPLATE template0"); err != nil {
		return err
	}
	u, err := withDB(serverURL, name)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, u)
	if err != nil {
		return err
	}
	_, err = store.Migrate(ctx, db.DB)
	db.Close()
	if err != nil {
		return err
	}
	// No one may connect to the template from now on: a session on it
	// makes CREATE DATABASE ... TEMPLATE fail.
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+qname+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "ALTER DATABASE "+qname+" WITH IS_TEMPLATE true")
	return err
}

// migrationsHash sums the names and contents of the migration files, and
// the versions of River's migrations.
func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	// store.Migrate applies River's migrations too.
	fmt.Fprintf(h, "river\x00%s\x00", store.RiverVersions())
	return hex.EncodeToString(h.Sum(nil)), nil
}

// dropOrphans drops the test databases whose test binary is gone.
func dropOrphans(ctx context.Context, admin *sql.DB) {
	for _, n := range databaseNames(ctx, admin, `SELECT datname FROM pg_database WHERE datname LIKE 'nurture\_test\_%'`) {
		pid, _, _ := strings.Cut(strings.TrimPrefix(n, testPrefix), "_")
		if p, err := strconv.Atoi(pid); err == nil && processGone(p) {
			drop(ctx, admin, n)
		}
	}
}

// withDB returns the server URL u with its database replaced by name.
func withDB(u, name string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "postgres" && p.Scheme != "postgresql") {
		return "", fmt.Errorf("%s must be a postgres:// URL, got %q", EnvURL, redact(u))
	}
	p.Path = "/" + name
	p.RawPath = ""
	return p.String(), nil
}

// redact hides a password in u for error messages.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}

func isCode(err error, code string) bool {
	var pqe *pq.Error
	return errors.As(err, &pqe) && string(pqe.Code) == code
}

// Block makes db's database unreachable, as when its server is away: no
// new session may connect, and every open one ends. unblock lets sessions
// connect again.
func Block(t testing.TB, db *sqlx.DB) (unblock func()) {
	t.Helper()
	var name string
	if err := db.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	q := pq.QuoteIdentifier(name)
	if _, err := server.admin.Exec(`ALTER DATABASE ` + q + ` WITH ALLOW_CONNECTIONS false`); err != nil {
		t.Fatalf("pgtest: block %s: %v", name, err)
	}
	if _, err := server.admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
		t.Fatalf("pgtest: end the sessions of %s: %v", name, err)
	}
	return func() {
		t.Helper()
		if _, err := server.admin.Exec(`ALTER DATABASE ` + q + ` WITH ALLOW_CONNECTIONS true`); err != nil {
			t.Fatalf("pgtest: unblock %s: %v", name, err)
		}
	}
}

// databaseNames returns the names query finds; none when it fails, since
// its callers only tidy up.
func databaseNames(ctx context.Context, admin *sql.DB, query string, args ...any) []string {
	rows, err := admin.QueryContext(ctx, query, args...)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			names = append(names, n)
		}
	}
	return names
}
