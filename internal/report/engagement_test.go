package report_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/report"
	"github.com/nurture/nurture/internal/store"
)

type bundle struct {
	t     *testing.T
	db    *sqlx.DB
	svc   *report.Service
	at    time.Time
	set   int64
	mails int
}

func setup(t *testing.T, steps ...string) *bundle {
	t.Helper()
	db, _ := pgtest.NewDB(t)
	st, err := store.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := &bundle{t: t, db: db, svc: report.New(st, func() []string { return steps }), at: time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)}
	b.must(db.Get(&b.set, `INSERT INTO link_sets (digest, links) VALUES ('r',
		'[{"url": "https://acme.example/pricing", "text": "Pricing"}]') RETURNING id`))
	return b
}

func (b *bundle) must(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
}

// mail writes a delivered step mail to a lead of its own and the hits it
// drew, each "type:verdict".
func (b *bundle) mail(step string, hits ...string) {
	b.t.Helper()
	b.mails++
	var m int64
	b.must(b.db.Get(&m, `WITH l AS (
		INSERT INTO leads (email, status, created_at, updated_at) VALUES ($1, 'confirmed', $2, $2) RETURNING id)
		INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key, link_set_id)
		SELECT 'step', id, $1, 'news@acme.example', $1, 'sent', $2, $2, $2, $3, $4 FROM l RETURNING id`,
		fmt.Sprintf("lead%d@example.com", b.mails), b.at, step, b.set))
	for _, h := range hits {
		typ, verdict, _ := strings.Cut(h, ":")
		source, url := "pixel", ""
		switch typ {
		case "click":
			source, url = "click", "https://acme.example/pricing"
		case "honeypot":
			source = "click"
		}
		_, err := b.db.Exec(`INSERT INTO events (lead_id, type, source, message_id, step_key, url, verdict, at)
			SELECT lead_id, $2, $3, id, step_key, NULLIF($4, ''), $5, $6 FROM messages WHERE id = $1`,
			m, typ, source, url, verdict, b.at.Add(time.Minute))
		b.must(err)
	}
}

// The report groups steps under sequences in the campaigns' order (a step
// deleted since comes last), and keeps raw and counted apart: a scanner's
// click, an MPP open and a prefetch are raw only.
func TestEngagement_StepsInCampaignOrderRawBesideCounted(t *testing.T) {
	t.Parallel()
	b := setup(t, "news/weekly", "ebook/your-copy", "ebook/follow-up")
	b.mail("ebook/follow-up", "open:human", "click:human")
	b.mail("ebook/follow-up", "open:apple_mpp", "click:scanner", "honeypot:scanner")
	b.mail("ebook/your-copy", "open:prefetch", "open:image_proxy")
	b.mail("ebook/old-step", "click:human")
	b.mail("news/weekly")

	e, err := b.svc.Engagement(context.Background(), report.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range e.Sequences {
		for _, s := range q.Steps {
			got = append(got, fmt.Sprintf("%s/%s sent=%d opens=%d/%d clicks=%d/%d leads=%d/%d %+v links=%+v",
				q.Name, s.Slug, s.Sent, s.Opens.Raw, s.Opens.Counted, s.Clicks.Raw, s.Clicks.Counted, s.Openers, s.Clickers, s.Verdicts, s.Links))
		}
	}
	want := []string{
		"news/weekly sent=1 opens=0/0 clicks=0/0 leads=0/0 {Human:0 ImageProxy:0 AppleMPP:0 Scanner:0 Prefetch:0} links=[]",
		"ebook/your-copy sent=1 opens=2/1 clicks=0/0 leads=1/0 {Human:0 ImageProxy:1 AppleMPP:0 Scanner:0 Prefetch:1} links=[]",
		"ebook/follow-up sent=2 opens=2/1 clicks=3/1 leads=1/1 {Human:2 ImageProxy:0 AppleMPP:1 Scanner:2 Prefetch:0} " +
			"links=[{URL:https://acme.example/pricing Text:Pricing Honeypot:false Clicks:{Raw:2 Counted:1}} {URL: Text: Honeypot:true Clicks:{Raw:1 Counted:0}}]",
		"ebook/old-step sent=1 opens=0/1 clicks=1/1 leads=1/1 {Human:1 ImageProxy:0 AppleMPP:0 Scanner:0 Prefetch:0} " +
			"links=[{URL:https://acme.example/pricing Text:Pricing Honeypot:false Clicks:{Raw:1 Counted:1}}]",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("report:\n%s\nwant:\n%s", join(got), join(want))
	}

	one, err := b.svc.Engagement(context.Background(), report.Filter{Sequence: "news", Since: b.at.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Sequences) != 0 {
		t.Errorf("mails since after the last one: %+v, want none", one.Sequences)
	}
}

func join(ss []string) string { return "  " + strings.Join(ss, "\n  ") }
