package funnel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/funnel"
)

func (b *bundle) recompute() funnel.Recomputed {
	b.t.Helper()
	r, err := b.svc.Recompute(b.ctx)
	if err != nil {
		b.t.Fatal(err)
	}
	return r
}

func TestRecompute_ReplaysUnderTheCurrentFileIdempotentlyAndAnMQLStaysOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reader := b.addLead("fay@example.com", nil)
	b.record(reader, click(1, 0, pricing), click(2, 0, "https://acme.example/blog"), event("page_view"))
	mql := b.addLead("gus@example.com", buyer)
	b.clock.Advance(3 * time.Second)
	b.mql(mql)
	if r := b.recompute(); r.Leads != 2 || r.Changed != 0 || r.MQLs != 0 {
		t.Errorf("a recompute under the same file: %+v", r)
	}
	ids := b.intOf(`SELECT sum(id) FROM score_entries`)

	// A new file: clicks are worth more, the MQL bar is out of reach.
	b.setRules(strings.Replace(strings.Replace(testRules, "click: 5", "click: 10", 1), "score >= 60", "score >= 1000", 1))
	if r := b.recompute(); r.Leads != 2 || r.Changed != 1 || r.MQLs != 0 {
		t.Errorf("a recompute under a new file: %+v", r)
	}
	if n := b.intOf(`SELECT sum(points) FROM score_entries WHERE lead_id = $1 AND rule = 'points.click'`, reader); n != 20 {
		t.Errorf("click points after the replay: %d, want 20", n)
	}
	if s := b.stored(reader); s.Engagement != (1+10+20)+(1+10)+1 {
		t.Errorf("the reader's score: %+v", s)
	}
	if s := b.stored(mql); s.Stage != "mql" {
		t.Errorf("an MQL became %s", s.Stage)
	}
	again := b.intOf(`SELECT sum(id) FROM score_entries`)
	if r := b.recompute(); r.Changed != 0 || b.intOf(`SELECT sum(id) FROM score_entries`) != again {
		t.Errorf("a second recompute changed the ledger: %+v", r)
	}
	if again == ids {
		t.Error("the new file's replay left the ledger as it was")
	}
	if n := len(b.handoffRows()); n != 1 {
		t.Errorf("%d handoffs after recomputes", n)
	}

	// Back to a reachable bar: a lead whose scored history passes it
	// becomes an MQL in the replay, once.
	b.setRules(testRules)
	late := b.addLead("hal@example.com", buyer)
	b.record(late, event("demo_requested"))
	if _, err := b.db.ExecContext(b.ctx, `UPDATE events SET scored_at = $1 WHERE lead_id = $2`, b.clock.Now(), late); err != nil {
		t.Fatal(err)
	}
	if r := b.recompute(); r.MQLs != 1 || b.stored(late).Stage != "mql" {
		t.Errorf("a lead the replay finds past the bar: %+v", r)
	}
	if r := b.recompute(); r.MQLs != 0 || len(b.handoffRows()) != 2 {
		t.Errorf("a second replay: %+v, %d handoffs", r, len(b.handoffRows()))
	}
}
