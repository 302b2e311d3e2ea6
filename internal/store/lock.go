package store

import (
	"context"
	"fmt"
)

// Advisory lock keys of the singleton jobs.
const (
	LockPurge  int64 = 0x6e75720001 // "nur" + 1
	LockDigest int64 = 0x6e75720014 // the handoff digest; "nur" + its migration, 0014
)

// Singleton runs fn only if no other node holds the advisory lock key, and
// reports whether it ran. The lock lives on one connection for fn's length.
func (s *Store) Singleton(ctx context.Context, key int64, fn func(ctx context.Context) error) (bool, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("store: singleton: %w", err)
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		return false, fmt.Errorf("store: singleton lock: %w", err)
	}
	if !got {
		return false, nil
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key)
	return true, fn(ctx)
}
