package store_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
)

func TestUnavailable_ClassifiesErrors(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{store.ErrNotFound, false},
		{context.Canceled, false},
		{&pq.Error{Code: "23505"}, false}, // unique_violation
		{&pq.Error{Code: "40P01"}, false}, // deadlock: the caller retries, it is no outage
		{&pq.Error{Code: "42601"}, false}, // syntax_error
		{fmt.Errorf("store: begin: %w", &pq.Error{Code: "57P03"}), true},
		{&pq.Error{Code: "57P01"}, true},
		{&pq.Error{Code: "57P02"}, true},
		{&pq.Error{Code: "53300"}, true},
		{fmt.Errorf("error making initial connection to database: %w", &pq.Error{Code: "55000", Message: `database "nurture" is not currently accepting connections`}), true},
		{&pq.Error{Code: "55000", Message: "cannot refresh materialized view concurrently"}, false},
		{&pq.Error{Code: "08006"}, true},
		{fmt.Errorf("store: commit: %w", driver.ErrBadConn), true},
		{io.EOF, true},
		{io.ErrUnexpectedEOF, true},
		{errors.Join(errors.New("batch"), store.ErrUnavailable), true},
	} {
		if got := store.Unavailable(tt.err); got != tt.want {
			t.Errorf("Unavailable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// What a real server says when it refuses connections (stopped) and when
// it ends a session (pg_ctl stop -m fast terminates every backend so).
func TestUnavailable_RealServerGoneAndSessionTerminated(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := store.Open(ctx, "postgres://postgres@127.0.0.1:1/x?sslmode=disable")
	if !store.Unavailable(err) {
		t.Errorf("connection refused: Unavailable(%v) = false", err)
	}

	db, _ := pgtest.NewDB(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend($1, 5000)`, pid); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, `SELECT 1`)
	if !store.Unavailable(err) {
		t.Errorf("terminated session: Unavailable(%v) = false", err)
	}
	t.Logf("a terminated session says: %v", err)

	if _, err := db.ExecContext(ctx, `SELECT no_such_column FROM leads`); err == nil || store.Unavailable(err) {
		t.Errorf("a bad query: Unavailable(%v) = true", err)
	}
}
