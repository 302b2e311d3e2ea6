package dispatch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
)

// seedEnrolments creates leads × sequences enrolments, of which due are
// due at now and the rest a week later, with set-based SQL.
func seedEnrolments(b *testing.B, db *sqlx.DB, leads, sequences, due int, now time.Time) {
	b.Helper()
	stmts := []string{
		`INSERT INTO leads (email, first_name, status, created_at, updated_at, confirmed_at)
			SELECT 'lead' || g || '@bench.example', 'Lead', 'confirmed', $1, $1, $1 FROM generate_series(1, $2) g`,
		`INSERT INTO enrolments (lead_id, sequence, state, due_at, enrolled_at)
			SELECT l.id, 'seq-' || s, 'active',
				CASE WHEN row_number() OVER () <= $2 THEN $1::timestamptz - interval '1 minute' ELSE $1::timestamptz + interval '7 days' END, $1
			FROM leads l CROSS JOIN generate_series(1, $3) s`,
		`VACUUM ANALYZE enrolments`,
		`VACUUM ANALYZE leads`,
	}
	args := [][]any{{now, leads}, {now, due, sequences}, nil, nil}
	for i, q := range stmts {
		if _, err := db.Exec(q, args[i]...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
}

var errRollback = errors.New("roll back")

// claimTime returns the mean time to claim one batch of 500 (the
// dispatcher's default) in a transaction that then rolls back.
func claimTime(b *testing.B, st *store.Store, now time.Time, rounds int) time.Duration {
	ctx := context.Background()
	start := time.Now()
	for range rounds {
		err := st.WithTx(ctx, func(tx *store.Tx) error {
			due, err := tx.ClaimEnrolments(ctx, now, 500)
			if err != nil {
				return err
			}
			if len(due) != 500 {
				b.Fatalf("claimed %d, want 500", len(due))
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			b.Fatal(err)
		}
	}
	return time.Since(start) / time.Duration(rounds)
}

// BenchmarkClaimCost claims a batch from 1,000,000 enrolments of which
// 10,000 are due, and from 10,000 enrolments that are all due, and reports
// the ratio: the claim's cost must follow the due work, not the table.
func BenchmarkClaimCost(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	open := func(leads, sequences, due int) *store.Store {
		db, _ := pgtest.NewDB(b)
		seedEnrolments(b, db, leads, sequences, due, now)
		st, err := store.New(ctx, db)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}
	small := open(10_000, 1, 10_000)
	large := open(10_000, 100, 10_000)
	claimTime(b, small, now, 5) // warm up caches and plans
	claimTime(b, large, now, 5)
	b.ResetTimer()
	var s, l time.Duration
	for range b.N {
		s += claimTime(b, small, now, 20)
		l += claimTime(b, large, now, 20)
	}
	s /= time.Duration(b.N)
	l /= time.Duration(b.N)
	b.ReportMetric(float64(s.Microseconds())/1000, "ms/claim-10k")
	b.ReportMetric(float64(l.Microseconds())/1000, "ms/claim-1M")
	b.ReportMetric(float64(l)/float64(s), "ratio")
	b.Logf("claim of 500: %v with 10,000 enrolments, %v with 1,000,000 (10,000 due): ratio %.2f (goal ≤ 2)", s, l, float64(l)/float64(s))
}
