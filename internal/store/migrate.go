package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/nurture/nurture/migrations"
)

// riverLock is the advisory lock key held while River's tables migrate, so
// that two nodes starting at once migrate them one after the other.
const riverLock int64 = 0x6e75727475726502

func provider(db *sql.DB) (*goose.Provider, error) {
	// The session lock is a Postgres advisory lock: two nodes that start at
	// once migrate one after the other.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
}

// Migrate applies every pending migration, Nurture's own and then those of
// River, the queue of jobs that are not mail, and returns how many it
// applied.
func Migrate(ctx context.Context, db *sql.DB) (int, error) {
	p, err := provider(db)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	n, err := migrateRiver(ctx, db)
	if err != nil {
		return 0, fmt.Errorf("store: migrate the job queue: %w", err)
	}
	return len(res) + n, nil
}

// migrateRiver applies River's pending migrations under an advisory lock.
// River runs each in a transaction of its own (one of them adds an enum
// value that the next uses), so the lock is a session's.
func migrateRiver(ctx context.Context, db *sql.DB) (int, error) {
	m, err := rivermigrate.New(riverdatabasesql.New(db), riverConfig())
	if err != nil {
		return 0, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", riverLock); err != nil {
		return 0, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", riverLock)
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, err
	}
	return len(res.Versions), nil
}

// RiverVersions names the migrations of River's this binary carries, such
// as "1 2 3": test templates are told apart by it as by the migration
// files.
func RiverVersions() string {
	m, err := rivermigrate.New(riverdatabasesql.New(nil), nil)
	if err != nil {
		return err.Error()
	}
	var vs []string
	for _, v := range m.AllVersions() {
		vs = append(vs, strconv.Itoa(v.Version))
	}
	return strings.Join(vs, " ")
}

// MigrationsCurrent reports whether the database schema is at the version
// this binary carries, River's tables included.
func MigrationsCurrent(ctx context.Context, db *sql.DB) (bool, error) {
	p, err := provider(db)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("store: migration status: %w", err)
	}
	if pending {
		return false, nil
	}
	m, err := rivermigrate.New(riverdatabasesql.New(db), riverConfig())
	if err != nil {
		return false, err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: job queue migration status: %w", err)
	}
	return res.OK, nil
}

// riverConfig sends River's migration warnings to stderr, keeping stdout
// for what `nurture migrate` reports.
func riverConfig() *rivermigrate.Config {
	return &rivermigrate.Config{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
}
