package funnel_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// buyer fits: 20 for the company's size, 15 for the title.
var buyer = lead.Attributes{"company_size": "250", "job_title": "Head of IT", "country": "DE"}

func (b *bundle) handoffRows() []store.Handoff {
	b.t.Helper()
	var hs []store.Handoff
	if err := b.db.SelectContext(b.ctx, &hs, `SELECT * FROM handoffs ORDER BY id`); err != nil {
		b.t.Fatal(err)
	}
	return hs
}

func TestMQL_FiftyConcurrentEventsOnTwoNodesOpenExactlyOneHandoff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.addLead("dora@example.com", buyer)
	a, other := b.svc, b.otherNode()
	// 35 fit and one point a download: the 25th download crosses score 60.
	var wg sync.WaitGroup
	var scored [2]atomic.Int64
	errs := make(chan error, 100)
	for i := range 50 {
		wg.Go(func() {
			_, err := b.db.ExecContext(b.ctx, `INSERT INTO events (lead_id, type, source, verdict, at) VALUES ($1, 'download', 'api', 'human', $2)`, id, b.clock.Now())
			if err != nil {
				errs <- err
				return
			}
			node := a
			if i%2 == 1 {
				node = other
			}
			n, err := node.ScoreDue(b.ctx)
			if err != nil {
				errs <- err
			}
			scored[i%2].Add(int64(n))
		})
	}
	wg.Wait()
	if n, err := other.ScoreDue(b.ctx); err != nil || n != 0 {
		t.Fatalf("%d events left after every node scored: %v", n, err)
	}
	if scored[0].Load() == 0 || scored[1].Load() == 0 || scored[0].Load()+scored[1].Load() != 50 {
		t.Errorf("the nodes scored %d and %d events; want both some, 50 in all", scored[0].Load(), scored[1].Load())
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	hs := b.handoffRows()
	if len(hs) != 1 || hs[0].LeadID != id || hs[0].Owner != "anna@sales.example" || hs[0].Status != "open" || hs[0].Fit != 35 || hs[0].Score < 60 {
		t.Fatalf("handoffs %+v", hs)
	}
	if calls := b.handoffs.calls(); len(calls) != 1 || calls[0].ID != hs[0].ID {
		t.Errorf("Handoffs.Opened calls %+v", calls)
	}
	if n := b.intOf(`SELECT count(*) FROM stage_changes WHERE lead_id = $1 AND to_stage = 'mql' AND actor = 'scoring' AND reason LIKE 'mql (line 1): score >= 60 and fit >= 10 holds%'`, id); n != 1 {
		t.Errorf("%d stage changes to mql", n)
	}
	if s := b.stored(id); s.Stage != "mql" || s.Engagement != 50 || s.Score != 85 {
		t.Errorf("stored %+v", s)
	}
	if n := b.intOf(`SELECT count(*) FROM events WHERE scored_at IS NULL`); n != 0 {
		t.Errorf("%d events unscored", n)
	}
}

// mql makes a lead an MQL with a demo request and returns its handoff.
func (b *bundle) mql(id int64) store.Handoff {
	b.t.Helper()
	b.record(id, event("demo_requested"))
	b.score()
	calls := b.handoffs.calls()
	if len(calls) == 0 || calls[len(calls)-1].LeadID != id {
		b.t.Fatalf("lead %d opened no handoff: %+v", id, calls)
	}
	return calls[len(calls)-1]
}

func TestRouting_OwnersTakeTurnsAcrossNodesAndRestarts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var owners []string
	for i := range 4 {
		id := b.addLead("de"+string(rune('a'+i))+"@example.com", buyer)
		owners = append(owners, b.mql(id).Owner)
	}
	// A restart: a new node with a pool of its own picks up the turns.
	b.svc = b.otherNode()
	for i := range 2 {
		id := b.addLead("at"+string(rune('a'+i))+"@example.com", lead.Attributes{"company_size": "90", "job_title": "CTO", "country": "AT"})
		owners = append(owners, b.mql(id).Owner)
	}
	us := b.addLead("us@example.com", lead.Attributes{"company_size": "900", "country": "US"})
	last := b.mql(us)
	want := []string{"anna@sales.example", "ben@sales.example", "anna@sales.example", "ben@sales.example", "anna@sales.example", "ben@sales.example"}
	for i := range want {
		if owners[i] != want[i] {
			t.Errorf("owners %v, want %v", owners, want)
			break
		}
	}
	if last.Owner != "sales@acme.example" || last.Route != 1 {
		t.Errorf("the default team's handoff: %+v", last)
	}
	rows := b.handoffRows()
	if len(rows) != 7 {
		t.Fatalf("%d handoff rows", len(rows))
	}
	for i, h := range b.handoffs.calls() {
		if rows[i].ID != h.ID || rows[i].Owner != h.Owner {
			t.Errorf("handoff %d: row %+v, Opened with %+v", i, rows[i], h)
		}
	}
}

func TestRecycle_MQLAgainOnlyOnEngagementEarnedAfterIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.addLead("eve@example.com", buyer)
	first := b.mql(id)
	// Sales rejects: the lead goes back to lead, recycled now.
	b.clock.Advance(time.Hour)
	if _, err := b.db.ExecContext(b.ctx, `UPDATE handoffs SET status = 'rejected' WHERE id = $1`, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.ExecContext(b.ctx, `UPDATE leads SET stage = 'lead', recycled_at = $2 WHERE id = $1`, id, b.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// Its score (35 fit, 40 engagement) still passes 60, but nothing since
	// the recycle counts yet: neither the refresh nor a page view makes it
	// an MQL.
	b.clock.Advance(21 * time.Hour)
	if n, err := b.svc.Refresh(b.ctx); err != nil || n != 1 {
		t.Fatalf("refresh: %d, %v", n, err)
	}
	b.record(id, event("page_view"))
	b.score()
	if s := b.stored(id); s.Stage != "lead" || s.Score < 60 {
		t.Fatalf("after the recycle: %+v", s)
	}
	if n := len(b.handoffs.calls()); n != 1 {
		t.Fatalf("%d handoffs after the recycle without new engagement", n)
	}
	second := b.mql(id)
	if second.ID == first.ID || second.Owner != "ben@sales.example" {
		t.Errorf("second handoff %+v", second)
	}
	if s := b.stored(id); s.Stage != "mql" {
		t.Errorf("stage %s after new engagement", s.Stage)
	}
}
