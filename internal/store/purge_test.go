package store_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// The purge must cost what it deletes: with many leads waiting for
// confirmation and a few past the retention, it reaches the few through
// leads_unconfirmed_idx rather than reading every unconfirmed lead.
func TestPurgePending_ReachesItsVictimsThroughTheIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	db := s.DB()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cutoff := now.Add(-30 * 24 * time.Hour)
	db.MustExec(`
		INSERT INTO leads (email, status, created_at, updated_at, confirm_mailed_at)
		SELECT 'wait-' || i || '@example.com', 'pending', $1::timestamptz - i * interval '1 second', $1, $1::timestamptz - i * interval '1 second'
		FROM generate_series(1, 20000) AS i`, now)
	db.MustExec(`
		INSERT INTO leads (email, status, created_at, updated_at, confirm_mailed_at)
		SELECT 'old-' || i || '@example.com', 'pending', $1::timestamptz - interval '31 days', $1, $1::timestamptz - interval '31 days'
		FROM generate_series(1, 5) AS i`, now)
	db.MustExec(`ANALYZE leads`)

	text, err := os.ReadFile("sql/purge_pending.sql")
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	if err := db.SelectContext(ctx, &plan, "EXPLAIN "+string(text), cutoff, now.Format(time.DateOnly), 1000); err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(plan, "\n")
	if !strings.Contains(joined, "leads_unconfirmed_idx") || strings.Contains(joined, "Seq Scan on leads") {
		t.Fatalf("the purge does not walk leads_unconfirmed_idx:\n%s", joined)
	}

	n, err := s.PurgePending(ctx, cutoff, now)
	if err != nil || n != 5 {
		t.Fatalf("purged %d, %v; want 5", n, err)
	}
}

// Erasing leads erases their events and facts (the trigger on leads, since
// events and lead_facts have no foreign keys), one statement of many leads
// as well as one lead, and leaves the other leads' alone.
func TestEraseLeads_TakesTheirEventsAndFacts(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	db := s.DB()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ids := fourLeads(t, db, "erase-", now)
	for _, id := range ids {
		db.MustExec(`INSERT INTO events (lead_id, type, at) VALUES ($1, 'download', $2), ($1, 'page_view', $2)`, id, now)
		db.MustExec(`INSERT INTO lead_facts (lead_id, kind, key, first_at, last_at) VALUES ($1, 'event', 'download', $2, $2)`, id, now)
	}
	eraseThreeOfFour(db, ids)
	for i, id := range ids {
		var events, facts int
		if err := db.QueryRow(`SELECT (SELECT count(*) FROM events WHERE lead_id = $1), (SELECT count(*) FROM lead_facts WHERE lead_id = $1)`, id).Scan(&events, &facts); err != nil {
			t.Fatal(err)
		}
		want := 0
		if i == 3 {
			want = 1
		}
		if events != 2*want || facts != want {
			t.Errorf("lead %d: %d events and %d facts left, want %d and %d", i, events, facts, 2*want, want)
		}
	}
}
