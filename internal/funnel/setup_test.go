package funnel_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/clock"
	"github.com/nurture/nurture/internal/funnel"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.RunParallel(m, 4)) }

// testRules is the scoring.yaml of these tests.
const testRules = `mql: score >= 60 and fit >= 10
points:
  confirmed: 5
  open: 1
  click: 5
  urls:
    "https://acme.example/pricing*": 20
  events:
    demo_requested: 40
    download: 1
    page_view: 1
    unsubscribed_from_sequence: -10
caps:
  open: 5
  page_view: 10
  urls: 40
fit:
  - if: number(attr.company_size) >= 50
    points: 20
  - if: lower(attr.job_title) matches "head|cto"
    points: 15
decay:
  half_life: 30d
bands:
  warm: 20
  hot: 50
handoff:
  reject_reasons: [no_budget, bad_fit]
  routes:
    - if: attr.country in ["DE", "AT", "CH"]
      to: [anna@sales.example, ben@sales.example]
    - to: [sales@acme.example]
`

var start = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// bundle is a funnel service on a fresh database with a fake clock, live
// rules that a test may swap, and a fake handoff service.
type bundle struct {
	t        *testing.T
	ctx      context.Context
	db       *sqlx.DB
	url      string
	store    *store.Store
	clock    *clock.Fake
	rules    atomic.Pointer[scoring.Rules]
	handoffs *fakeHandoffs
	svc      *funnel.Service
}

func setup(t *testing.T) *bundle {
	t.Helper()
	db, url := pgtest.NewDB(t)
	b := &bundle{t: t, ctx: context.Background(), db: db, url: url, clock: clock.NewFake(start), handoffs: &fakeHandoffs{}}
	b.store = b.newStore(db)
	b.setRules(testRules)
	b.svc = b.node(b.store)
	return b
}

func (b *bundle) newStore(db *sqlx.DB) *store.Store {
	st, err := store.New(b.ctx, db)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { st.Close() })
	return st
}

// otherNode is a second node: its own pool, store and service.
func (b *bundle) otherNode() *funnel.Service {
	db, err := store.Open(b.ctx, b.url)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { db.Close() })
	return b.node(b.newStore(db))
}

func (b *bundle) node(st *store.Store) *funnel.Service {
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return funnel.New(st, log, b.clock.Now, funnel.Config{Rules: b.rules.Load, Handoffs: b.handoffs, Batch: 5})
}

func (b *bundle) setRules(src string) {
	b.t.Helper()
	r, ps := scoring.Parse("scoring.yaml", []byte(src))
	if r == nil {
		b.t.Fatalf("rules: %v", ps)
	}
	b.rules.Store(r)
}

// addLead inserts a confirmed lead with attributes.
func (b *bundle) addLead(email string, attrs lead.Attributes) int64 {
	b.t.Helper()
	var id int64
	err := b.db.QueryRowxContext(b.ctx, `INSERT INTO leads (email, status, source, attributes, created_at, updated_at, confirmed_at)
		VALUES ($1, 'confirmed', 'ebook', $2, $3, $3, $3) RETURNING id`, email, attrs, b.clock.Now()).Scan(&id)
	if err != nil {
		b.t.Fatal(err)
	}
	return id
}

// ev is an event row to insert.
type ev struct {
	typ, source, url, verdict string
	msg, link                 int64
	at                        time.Time
}

// record inserts events as the recorder does; at defaults to now, verdict
// to human, source to api.
func (b *bundle) record(leadID int64, evs ...ev) {
	b.t.Helper()
	for _, e := range evs {
		if e.at.IsZero() {
			e.at = b.clock.Now()
		}
		if e.verdict == "" {
			e.verdict = "human"
		}
		if e.source == "" {
			e.source = "api"
		}
		var msg, link any
		if e.msg != 0 {
			msg, link = e.msg, e.link
		}
		_, err := b.db.ExecContext(b.ctx, `INSERT INTO events (lead_id, type, source, url, message_id, link, verdict, at, step_key)
			VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7, $8, CASE WHEN $5::bigint IS NULL THEN NULL ELSE 'ebook/mail-' || $5 END)`,
			leadID, e.typ, e.source, e.url, msg, link, e.verdict, e.at)
		if err != nil {
			b.t.Fatal(err)
		}
	}
}

func open(msg int64, verdict string) ev {
	return ev{typ: "open", source: "pixel", msg: msg, verdict: verdict}
}
func click(msg, link int64, url string) ev {
	return ev{typ: "click", source: "click", msg: msg, link: link, url: url}
}
func event(typ string) ev { return ev{typ: typ} }

// score scores what is due on the bundle's node.
func (b *bundle) score() int {
	b.t.Helper()
	n, err := b.svc.ScoreDue(b.ctx)
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// stored is a lead's stored score.
type stored struct {
	Fit         int    `db:"fit"`
	Engagement  int    `db:"engagement"`
	Score       int    `db:"score"`
	Temperature string `db:"temperature"`
	Stage       string `db:"stage"`
}

func (b *bundle) stored(id int64) stored {
	b.t.Helper()
	var s stored
	if err := b.db.GetContext(b.ctx, &s, `SELECT fit, engagement, score, temperature, stage FROM leads WHERE id = $1`, id); err != nil {
		b.t.Fatal(err)
	}
	return s
}

// intOf runs a query that returns one number.
func (b *bundle) intOf(q string, args ...any) int {
	b.t.Helper()
	var n int
	if err := b.db.GetContext(b.ctx, &n, q, args...); err != nil {
		b.t.Fatal(err)
	}
	return n
}

// fakeHandoffs records the handoffs it is given.
type fakeHandoffs struct {
	mu     sync.Mutex
	opened []store.Handoff
}

func (f *fakeHandoffs) Opened(ctx context.Context, tx *store.Tx, h store.Handoff) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opened = append(f.opened, h)
	return nil
}

func (f *fakeHandoffs) calls() []store.Handoff {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.Handoff(nil), f.opened...)
}
