package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the Postgres driver
)

// Sentinel errors callers act on.
var (
	ErrNotFound = errors.New("store: not found")
)

//go:embed sql/*.sql
var sqlFS embed.FS

// Store reads and writes Nurture's data in Postgres.
type Store struct {
	db *sqlx.DB
	q  *queries
}

// Open connects to Postgres. It does not migrate; see Migrate.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return db, nil
}

// New prepares every query against db. A query that does not prepare stops
// here, naming its file.
func New(ctx context.Context, db *sqlx.DB) (*Store, error) {
	q := &queries{}
	if err := prepare(ctx, db, q); err != nil {
		return nil, err
	}
	return &Store{db: db, q: q}, nil
}

// DB returns the connection pool, for callers that LISTEN or ping.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close releases the prepared statements. The pool belongs to the caller.
func (s *Store) Close() error {
	v := reflect.ValueOf(s.q).Elem()
	for i := range v.NumField() {
		if st, ok := v.Field(i).Interface().(*sqlx.Stmt); ok && st != nil {
			st.Close()
		}
	}
	return nil
}

// Tx is a transaction with the store's queries bound to it.
type Tx struct {
	tx *sqlx.Tx
	q  *queries
}

// stmt binds a prepared statement to the transaction.
func (t *Tx) stmt(s *sqlx.Stmt) *sqlx.Stmt { return t.tx.Stmtx(s) }

// WithTx runs fn in a transaction, committing when it returns nil.
func (s *Store) WithTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(&Tx{tx: tx, q: s.q}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// prepare fills every *sqlx.Stmt field of q from the file named by its
// `query` tag.
func prepare(ctx context.Context, db *sqlx.DB, q any) error {
	v := reflect.ValueOf(q).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("query")
		if name == "" {
			continue
		}
		body, err := sqlFS.ReadFile("sql/" + name + ".sql")
		if err != nil {
			return fmt.Errorf("store: query %s: %w", name, err)
		}
		st, err := db.PreparexContext(ctx, strings.TrimSpace(string(body)))
		if err != nil {
			return fmt.Errorf("store: prepare sql/%s.sql: %w", name, err)
		}
		v.Field(i).Set(reflect.ValueOf(st))
	}
	return nil
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
