package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq" // the Postgres driver

	"github.com/nurture/nurture/internal/dsn"
)

// Sentinel errors callers act on.
var (
	ErrNotFound = errors.New("store: not found")
)

//go:embed sql/*.sql
var sqlFS embed.FS

// Store reads and writes Nurture's data in Postgres.
type Store struct {
	db    *sqlx.DB
	q     *queries
	texts map[*sqlx.Stmt]string
	node  atomic.Int64 // the relay node this process runs, 0 before it joins (see Join)
}

// Open connects to Postgres. It does not migrate; see Migrate.
//
// The connection uses lib/pq's binary_parameters mode, in which a query with
// arguments takes one round trip (parse, bind and execute together) instead
// of two, and a []byte argument goes in binary (see binaryArray). A URL
// that turns the mode off is refused.
//
// Its errors never hold the password: lib/pq's own parse errors quote the
// whole URL, so the string is checked first by dsn.Check, which does not.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	if err := dsn.Check(url); err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if cfg, err := pq.NewConfig(url); err == nil && strings.Contains(url, "binary_parameters") && !cfg.BinaryParameters {
		return nil, errors.New("store: connect: binary_parameters must be yes or left out: opens and clicks go to Postgres in binary")
	}
	db, err := sqlx.Open("postgres", withBinaryParameters(url))
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
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
	texts, err := prepare(ctx, db, q)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, q: q, texts: texts}, nil
}

// DB returns the connection pool, for callers that LISTEN or ping.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close releases the prepared statements. The pool belongs to the caller.
func (s *Store) Close() error {
	for st := range s.texts {
		st.Close()
	}
	return nil
}

// Tx is a transaction with the store's queries bound to it.
type Tx struct {
	tx     *sqlx.Tx
	q      *queries
	texts  map[*sqlx.Stmt]string
	queued bool  // the transaction queued mail for a sender to claim
	node   int64 // the node leased mail is written for
	after  []func()
}

// AfterCommit calls f once the transaction has committed, and never if it
// rolls back: a wake-up sent earlier could find nothing to do yet, and be
// lost.
func (t *Tx) AfterCommit(f func()) { t.after = append(t.after, f) }

// SQL is the transaction's database/sql handle, for a job queue that
// inserts its jobs in the caller's transaction (see internal/webhook).
func (t *Tx) SQL() *sql.Tx { return t.tx.Tx }

// Queued reports whether the transaction queued mail for a sender to claim
// from the outbox, rather than writing it leased for a hand-over: whoever
// wrote it wakes the sender once it commits (see AfterCommit).
func (t *Tx) Queued() bool { return t.queued }

// stmt runs a prepared query's text on the transaction's connection.
//
// database/sql's Tx.Stmt prepares the statement again on the transaction's
// connection, and closes it when the transaction ends, unless that
// connection happens to have run it outside a transaction. The text goes
// through lib/pq's one-round-trip path instead; the boot-time prepare has
// already checked it.
func (t *Tx) stmt(s *sqlx.Stmt) textQuery { return textQuery{on: t.tx, text: t.texts[s]} }

// textQuery is a query's text run on a transaction or on the pool, with
// the methods of the prepared statement it stands in for.
type textQuery struct {
	on   sqlx.ExtContext
	text string
}

func (q textQuery) GetContext(ctx context.Context, dest any, args ...any) error {
	return sqlx.GetContext(ctx, q.on, dest, q.text, args...)
}

func (q textQuery) SelectContext(ctx context.Context, dest any, args ...any) error {
	return sqlx.SelectContext(ctx, q.on, dest, q.text, args...)
}

func (q textQuery) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return q.on.ExecContext(ctx, q.text, args...)
}

func (q textQuery) QueryxContext(ctx context.Context, args ...any) (*sqlx.Rows, error) {
	return q.on.QueryxContext(ctx, q.text, args...)
}

// planned runs a prepared query's text unprepared, so that Postgres plans
// it for its arguments every time. A prepared statement may settle on a
// generic plan made while a table was small, and keep it as the table
// grows: for a write to messages by a list of ids, a sequential scan that
// got slower with every mail queued. With binary_parameters the text
// still takes one round trip.
func (s *Store) planned(st *sqlx.Stmt) textQuery { return textQuery{on: s.db, text: s.texts[st]} }

// withBinaryParameters adds binary_parameters=yes to a URL or key=value DSN
// that does not set it.
func withBinaryParameters(dsn string) string {
	if strings.Contains(dsn, "binary_parameters") {
		return dsn
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if strings.Contains(dsn, "?") {
			return dsn + "&binary_parameters=yes"
		}
		return dsn + "?binary_parameters=yes"
	}
	return dsn + " binary_parameters=yes"
}

// WithTx runs fn in a transaction, committing when it returns nil.
func (s *Store) WithTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	t := &Tx{tx: tx, q: s.q, texts: s.texts, node: s.node.Load()}
	if err := fn(t); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	for _, f := range t.after {
		f()
	}
	return nil
}

// prepare fills every *sqlx.Stmt field of q from the file named by its
// `query` tag, and returns each statement's text. An embedded struct is a
// group of queries of its own (see queries), filled the same way.
func prepare(ctx context.Context, db *sqlx.DB, q any) (map[*sqlx.Stmt]string, error) {
	texts := map[*sqlx.Stmt]string{}
	return texts, prepareInto(ctx, db, reflect.ValueOf(q).Elem(), texts)
}

func prepareInto(ctx context.Context, db *sqlx.DB, v reflect.Value, texts map[*sqlx.Stmt]string) error {
	t := v.Type()
	for i := range t.NumField() {
		if f := t.Field(i); f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := prepareInto(ctx, db, v.Field(i), texts); err != nil {
				return err
			}
			continue
		}
		name := t.Field(i).Tag.Get("query")
		if name == "" {
			continue
		}
		body, err := sqlFS.ReadFile("sql/" + name + ".sql")
		if err != nil {
			return fmt.Errorf("store: query %s: %w", name, err)
		}
		text := strings.TrimSpace(string(body))
		st, err := db.PreparexContext(ctx, text)
		if err != nil {
			return fmt.Errorf("store: prepare sql/%s.sql: %w", name, err)
		}
		v.Field(i).Set(reflect.ValueOf(st))
		texts[st] = text
	}
	return nil
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
