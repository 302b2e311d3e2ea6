package funnel_test

import (
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

const pricing = "https://acme.example/pricing"

func TestScore_PointsCapsVerdictsAndAClickCountingAsItsOpenOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.addLead("anna@example.com", nil)
	if err := b.store.WithTx(b.ctx, func(tx *store.Tx) error { return b.svc.OnConfirmed(b.ctx, tx, id, b.clock.Now()) }); err != nil {
		t.Fatal(err)
	}
	// Day one: seven mails opened (the cap is 5), one twice; Apple's proxy
	// and a scanner earn nothing.
	for m := int64(1); m <= 7; m++ {
		b.record(id, open(m, ""))
	}
	b.record(id, open(1, ""), open(8, "apple_mpp"), ev{typ: "click", source: "click", msg: 8, url: pricing, verdict: "scanner"})
	if n := b.score(); n != 1 {
		t.Fatalf("scored %d events at once; want only the confirmation, opens and clicks wait for their burst to settle", n)
	}
	b.clock.Advance(3 * time.Second)
	if n := b.score(); n != 10 {
		t.Fatalf("scored %d events after the burst window; want 10", n)
	}
	// Day two: a click of an unopened mail counts its open (once), a second
	// click of that link and the mail's late open earn nothing, another
	// link earns its click; an image proxy's open counts; page views stop
	// at their cap.
	b.clock.Advance(24 * time.Hour)
	b.record(id, click(9, 0, pricing+"?plan=team"), click(9, 0, pricing+"?plan=team"), open(9, ""), click(9, 1, "https://acme.example/blog"), open(10, "image_proxy"))
	for range 12 {
		b.record(id, event("page_view"))
	}
	b.score()
	b.clock.Advance(3 * time.Second)
	b.score()

	if n := b.intOf(`SELECT count(*) FROM events WHERE scored_at IS NULL`); n != 0 {
		t.Errorf("%d events left unscored", n)
	}
	byRule := map[string]int{}
	rows, err := b.db.QueryxContext(b.ctx, `SELECT rule, sum(points) FROM score_entries WHERE lead_id = $1 GROUP BY rule`, id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var rule string
		var n int
		if err := rows.Scan(&rule, &n); err != nil {
			t.Fatal(err)
		}
		byRule[rule] = n
	}
	want := map[string]int{"points.confirmed": 5, "points.open": 5 + 1 + 1, "points.click": 10, "points.urls": 20, "points.events.page_view": 10}
	for rule, n := range want {
		if byRule[rule] != n {
			t.Errorf("%s: %d points, want %d (all: %v)", rule, byRule[rule], n, byRule)
		}
	}
	if n := b.intOf(`SELECT count(*) FROM score_entries WHERE lead_id = $1 AND points = 0 AND note LIKE '%capped at%'`, id); n != 2+2 {
		t.Errorf("%d capped rows; want 2 opens and 2 page views", n)
	}
	// 10 points a day old, 42 fresh: 10·2^(-1/30) + 42 = 51.8.
	if s := b.stored(id); s.Engagement != 52 || s.Score != 52 || s.Fit != 0 || s.Temperature != "hot" || s.Stage != "lead" {
		t.Errorf("stored %+v", s)
	}
}

func TestFit_EveryChangeIsALedgerRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.addLead("ben@example.com", lead.Attributes{"company_size": "250"})
	setAttrs := func(a lead.Attributes) {
		if _, err := b.db.ExecContext(b.ctx, `UPDATE leads SET attributes = $2 WHERE id = $1`, id, a); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		attrs lead.Attributes
		fit   int
	}{
		{nil, 20},
		{lead.Attributes{"company_size": "250", "job_title": "CTO"}, 35},
		{lead.Attributes{"job_title": "CTO"}, 15},
		{lead.Attributes{"job_title": "CTO"}, 15},
	}
	for i, st := range steps {
		if st.attrs != nil {
			setAttrs(st.attrs)
		}
		b.record(id, event("page_view"))
		b.score()
		if s := b.stored(id); s.Fit != st.fit {
			t.Errorf("step %d: fit %d, want %d", i, s.Fit, st.fit)
		}
	}
	type row struct {
		Rule   string `db:"rule"`
		Points int    `db:"points"`
		Ref    string `db:"ref"`
		Note   string `db:"note"`
	}
	var got []row
	if err := b.db.SelectContext(b.ctx, &got, `SELECT rule, points, ref, note FROM score_entries WHERE lead_id = $1 AND kind = 'fit' ORDER BY id`, id); err != nil {
		t.Fatal(err)
	}
	want := []row{
		{"fit rule 1", 20, "", "number(attr.company_size) >= 50"},
		{"fit rule 2", 15, "", `lower(attr.job_title) matches "head|cto"`},
		{"fit rule 1", -20, "no longer holds", "number(attr.company_size) >= 50"},
	}
	if len(got) != len(want) {
		t.Fatalf("fit rows %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fit row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestDecay_HalvesEveryHalfLifeAndTheRefreshKeepsScoresUnderADayOld(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.addLead("cora@example.com", nil)
	b.record(id, event("demo_requested"))
	b.score()
	if s := b.stored(id); s.Engagement != 40 || s.Temperature != "warm" {
		t.Fatalf("after the demo: %+v", s)
	}
	refresh := func() int {
		n, err := b.svc.Refresh(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	b.clock.Advance(10 * time.Hour)
	if n := refresh(); n != 0 {
		t.Errorf("refreshed %d scores 10 hours old", n)
	}
	b.clock.Set(start.Add(30 * 24 * time.Hour))
	if n := refresh(); n != 1 {
		t.Errorf("refreshed %d stale scores; want 1", n)
	}
	if s := b.stored(id); s.Engagement != 20 || s.Score != 20 || s.Temperature != "warm" {
		t.Errorf("after one half-life: %+v", s)
	}
	b.clock.Set(start.Add(60 * 24 * time.Hour))
	refresh()
	if s := b.stored(id); s.Engagement != 10 || s.Temperature != "cold" {
		t.Errorf("after two half-lives: %+v", s)
	}
	// The ledger keeps what was earned; decay is worked out from it.
	if n := b.intOf(`SELECT sum(points) FROM score_entries WHERE lead_id = $1`, id); n != 40 {
		t.Errorf("ledger sum %d, want 40", n)
	}
}

// An event written while its lead was being erased outlives the lead (the
// erasing trigger could not see it yet); scoring deletes it and its lead's
// facts, and scores the others.
func TestScore_DeletesTheEventsAndFactsOfAnErasedLead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.addLead("anna@example.com", nil)
	gone := b.addLead("ben@example.com", nil)
	if _, err := b.db.ExecContext(b.ctx, `DELETE FROM leads WHERE id = $1`, gone); err != nil {
		t.Fatal(err)
	}
	b.record(id, event("download"))
	b.record(gone, event("download"))
	if _, err := b.db.ExecContext(b.ctx, `INSERT INTO lead_facts (lead_id, kind, key, first_at, last_at) VALUES ($1, 'event', 'download', $2, $2)`,
		gone, b.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := b.score(); n != 2 {
		t.Fatalf("scored %d events, want 2", n)
	}
	if n := b.intOf(`SELECT count(*) FROM events WHERE lead_id = $1`, gone); n != 0 {
		t.Errorf("%d events of the erased lead left", n)
	}
	if n := b.intOf(`SELECT count(*) FROM lead_facts WHERE lead_id = $1`, gone); n != 0 {
		t.Errorf("%d facts of the erased lead left", n)
	}
	if n := b.intOf(`SELECT count(*) FROM events WHERE lead_id = $1 AND scored_at IS NOT NULL`, id); n != 1 {
		t.Errorf("%d events of the live lead scored, want 1", n)
	}
}
