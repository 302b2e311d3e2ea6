package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// reportSeed writes mails of three steps and their opens and clicks, of
// every verdict, as the recorder writes them.
type reportSeed struct {
	t    *testing.T
	s    *store.Store
	set  int64
	at   time.Time
	mail int
}

func (r *reportSeed) lead(email string) int64 { return confirmedLead(r.t, r.s, email, r.at) }

// message writes a step mail of lead, delivered at sent (nil: queued).
func (r *reportSeed) message(lead int64, step string, sent *time.Time) int64 {
	r.t.Helper()
	r.mail++
	var id int64
	err := r.s.DB().Get(&id, `INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key, link_set_id)
		VALUES ('step', $1, $2, 'news@acme.example', 'lead@example.com', CASE WHEN $3::timestamptz IS NULL THEN 'queued' ELSE 'sent' END,
		$4, $4, $3, $5, $6) RETURNING id`, lead, fmt.Sprintf("<report.%d@test>", r.mail), sent, r.at, step, r.set)
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// event writes an open, click or honeypot hit of message m.
func (r *reportSeed) event(m int64, typ, verdict, url string) {
	r.t.Helper()
	source := map[string]string{"open": "pixel", "click": "click", "honeypot": "click"}[typ]
	_, err := r.s.DB().Exec(`INSERT INTO events (lead_id, type, source, message_id, step_key, url, verdict, at)
		SELECT lead_id, $2, $3, id, step_key, NULLIF($5, ''), $4, $6 FROM messages WHERE id = $1`,
		m, typ, source, verdict, url, r.at.Add(time.Hour))
	if err != nil {
		r.t.Fatal(err)
	}
}

const (
	pricing = "https://acme.example/pricing"
	docs    = "https://acme.example/docs"
)

func seedReport(t *testing.T) *store.Store {
	t.Helper()
	s := newStore(t)
	r := &reportSeed{t: t, s: s, at: time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)}
	if err := s.DB().Get(&r.set, `INSERT INTO link_sets (digest, links) VALUES ('report', '[{"url": "`+pricing+`", "text": "See pricing"}, {"url": "`+docs+`", "text": "Read the docs"}]') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	a, b, c, d := r.lead("a@example.com"), r.lead("b@example.com"), r.lead("c@example.com"), r.lead("d@example.com")
	sent, old := r.at, r.at.AddDate(0, -1, 0)

	wa := r.message(a, "ebook/welcome", &sent)
	r.event(wa, "open", "human", "")
	r.event(wa, "open", "apple_mpp", "")
	r.event(wa, "click", "human", pricing)
	r.event(wa, "click", "scanner", pricing)
	r.event(wa, "honeypot", "scanner", "")
	wb := r.message(b, "ebook/welcome", &sent)
	r.event(wb, "open", "apple_mpp", "")
	r.event(wb, "open", "prefetch", "")
	r.event(wb, "click", "scanner", pricing)
	wc := r.message(c, "ebook/welcome", &sent)
	r.event(wc, "open", "image_proxy", "")
	r.event(wc, "click", "human", docs)
	r.message(d, "ebook/welcome", nil) // queued: not sent, not reported

	pa := r.message(a, "ebook/pricing", &sent) // clicked, its pixel never loaded
	r.event(pa, "click", "human", pricing)

	r.event(r.message(a, "news/weekly", &sent), "open", "human", "")
	r.event(r.message(b, "ebook/welcome", &old), "open", "human", "") // before the since of a test
	return s
}

// Scanner, MPP and prefetch hits count raw only: each step's raw and
// counted figures differ by exactly them, a click with no counted open
// counts one open, and the verdicts add up to the raw opens and clicks.
func TestEngagementSteps_RawAndCountedDifferByTheBots(t *testing.T) {
	t.Parallel()
	s := seedReport(t)
	ctx := context.Background()
	got, err := s.EngagementSteps(ctx, store.ReportFilter{Sequence: "ebook", Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.StepEngagement{
		{StepKey: "ebook/pricing", Sent: 1, Opens: 0, OpensCounted: 1, Clicks: 1, ClicksCounted: 1, Openers: 1, Clickers: 1, Human: 1},
		{StepKey: "ebook/welcome", Sent: 3, Opens: 5, OpensCounted: 2, Clicks: 5, ClicksCounted: 2, Openers: 2, Clickers: 2,
			Human: 3, ImageProxy: 1, AppleMPP: 2, Scanner: 3, Prefetch: 1},
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("steps =\n%+v\nwant\n%+v", got, want)
	}

	all, err := s.EngagementSteps(ctx, store.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int64{}
	for _, st := range all {
		keys[st.StepKey] = st.Sent
	}
	if len(all) != 3 || keys["ebook/welcome"] != 4 || keys["news/weekly"] != 1 {
		t.Errorf("without a filter: %v, want three steps, welcome's old mail and news included", keys)
	}
}

// Each link's clicks, raw and counted, with its text from the mail's link
// set; the honeypot's hits are a row of their own.
func TestEngagementLinks_EachLinkRawAndCounted(t *testing.T) {
	t.Parallel()
	s := seedReport(t)
	got, err := s.EngagementLinks(context.Background(), store.ReportFilter{Sequence: "ebook"})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.LinkEngagement{
		{StepKey: "ebook/pricing", URL: pricing, Text: "See pricing", Clicks: 1, ClicksCounted: 1},
		{StepKey: "ebook/welcome", URL: pricing, Text: "See pricing", Clicks: 3, ClicksCounted: 1},
		{StepKey: "ebook/welcome", URL: docs, Text: "Read the docs", Clicks: 1, ClicksCounted: 1},
		{StepKey: "ebook/welcome", Honeypot: true, Clicks: 1, ClicksCounted: 0},
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("links =\n%+v\nwant\n%+v", got, want)
	}
}
