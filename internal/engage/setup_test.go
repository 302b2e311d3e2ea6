package engage

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/clock"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// bundle is a Service on a database of its own, with a clock the test
// controls.
type bundle struct {
	ctx      context.Context
	db       *sqlx.DB
	st       *store.Store
	svc      *Service
	clock    *clock.Fake
	signer   *tracking.Signer
	recorded atomic.Int64 // calls of Config.Recorded
	enrolled []string     // event types OnEvent saw
}

var start = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T, edit ...func(*Config)) *bundle {
	t.Helper()
	t.Parallel()
	ctx := context.Background()
	st, db := pgtest.NewStore(t)
	b := &bundle{ctx: ctx, db: db, st: st, clock: clock.NewFake(start),
		signer: tracking.NewSigner([]byte(strings.Repeat("s", 32)))}
	cfg := Config{
		Signer:    b.signer,
		Judge:     tracking.Judge{Scanners: tracking.DefaultScanners()},
		Tracking:  "consent",
		SiteHosts: []string{"www.acme.example"},
		Recorded:  func() { b.recorded.Add(1) },
		OnEvent: func(ctx context.Context, tx *store.Tx, leadID int64, typ string, now time.Time) (int, error) {
			b.enrolled = append(b.enrolled, typ)
			return len(typ) % 2, nil
		},
		Now: b.clock.Now,
	}
	for _, e := range edit {
		e(&cfg)
	}
	var err error
	if b.svc, err = New(st, cfg); err != nil {
		t.Fatal(err)
	}
	return b
}

// lead inserts a confirmed lead, tracked or not.
func (b *bundle) lead(t *testing.T, email string, tracked bool) int64 {
	t.Helper()
	var id int64
	err := b.db.GetContext(b.ctx, &id, `INSERT INTO leads (email, status, created_at, updated_at, tracking)
		VALUES ($1, 'confirmed', $2, $2, $3) RETURNING id`, email, start.Add(-48*time.Hour), tracked)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// mail inserts a step mail of the lead, delivered at sent, with these
// links in its link set, as the dispatcher records a tracked mail.
func (b *bundle) mail(t *testing.T, leadID int64, step string, sent time.Time, urls ...string) int64 {
	t.Helper()
	return seedMail(t, b.ctx, b.db, leadID, step, sent, urls...)
}

func seedMail(t *testing.T, ctx context.Context, db *sqlx.DB, leadID int64, step string, sent time.Time, urls ...string) int64 {
	t.Helper()
	links := make([]store.Link, len(urls))
	for i, u := range urls {
		links[i] = store.Link{URL: u, Text: fmt.Sprintf("link %d", i)}
	}
	js, err := json.Marshal(links)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(js)
	var set, id int64
	err = db.GetContext(ctx, &set, `INSERT INTO link_sets (digest, links) VALUES ($1, $2)
		ON CONFLICT (digest) DO UPDATE SET digest = EXCLUDED.digest RETURNING id`, digest[:], string(js))
	if err != nil {
		t.Fatal(err)
	}
	err = db.GetContext(ctx, &id, `INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key, link_set_id)
		VALUES ('step', $1, $2, 'news@acme.example', 'lead@example.com', 'sent', $3, $3, $3, $4, $5) RETURNING id`,
		leadID, fmt.Sprintf("<%d.%d@test>", leadID, time.Now().UnixNano()), sent, step, set)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// ev is an events row as a test reads it.
type ev struct {
	ID      int64  `db:"id"`
	Type    string `db:"type"`
	Source  string `db:"source"`
	Verdict string `db:"verdict"`
	Reason  string `db:"reason"`
	IP      string `db:"ip_prefix"`
	UA      string `db:"user_agent"`
	URL     string `db:"url"`
}

func (b *bundle) events(t *testing.T, leadID int64) []ev {
	t.Helper()
	var out []ev
	err := b.db.SelectContext(b.ctx, &out, `SELECT id, type, source, verdict, reason, ip_prefix, user_agent, COALESCE(url, '') AS url
		FROM events WHERE lead_id = $1 ORDER BY id`, leadID)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// facts returns the lead's facts as "kind key count", a click's as "click
// key url count".
func (b *bundle) facts(t *testing.T, leadID int64) []string {
	t.Helper()
	var out []string
	err := b.db.SelectContext(b.ctx, &out, `SELECT concat_ws(' ', kind, key, NULLIF(url, ''), count) FROM lead_facts
		WHERE lead_id = $1 ORDER BY kind, key, url`, leadID)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wantFacts wants the lead's facts, as facts returns them.
func (b *bundle) wantFacts(t *testing.T, leadID int64, want ...string) {
	t.Helper()
	if got := b.facts(t, leadID); !slices.Equal(got, want) {
		t.Errorf("facts = %q, want %q", got, want)
	}
}

// click follows link n of mail m as a person at the given time, and fails the
// test on an error.
func (b *bundle) click(t *testing.T, m int64, n int, at time.Time) {
	t.Helper()
	if _, err := b.svc.Click(b.ctx, b.signer.Click(m, n), req(at)); err != nil {
		t.Fatal(err)
	}
}

const browser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"

// req is a person's request from a home address, a minute after start.
func req(at time.Time) Request {
	return Request{Method: "GET", UserAgent: browser, IP: netip.MustParseAddr("203.0.113.77"), At: at}
}

// Each test takes a migrated database from the binary's pool; see pgtest.
func TestMain(m *testing.M) { os.Exit(pgtest.RunParallel(m, 8)) }
