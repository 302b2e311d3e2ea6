package handoff

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/clock"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
	"github.com/nurture/nurture/templates"
)

// bundle is a handoff service on a database of its own, with fakes of the
// dispatcher's stage moves and of the webhooks, and a clock the test
// controls.
type bundle struct {
	db    *sqlx.DB
	store *store.Store
	svc   *Service
	clock *clock.Fake
	hooks *fakeWebhooks
	steps *fakeStages
	again func() *Service // another node's service, started now
}

// fakeStages moves stages with the store's SetStage, as the dispatcher
// does, and counts the recycled enrolments it was asked for.
type fakeStages struct {
	mu       sync.Mutex
	recycled []int64
}

func (f *fakeStages) Move(ctx context.Context, tx *store.Tx, id int64, sc store.StageChange, now time.Time) (Moved, error) {
	from, err := tx.SetStage(ctx, id, sc, now)
	return Moved{From: from}, err
}

func (f *fakeStages) OnRecycled(ctx context.Context, tx *store.Tx, id int64, now time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recycled = append(f.recycled, id)
	return 1, nil
}

// fakeWebhooks records the handoffs it was asked to enqueue, or fails.
type fakeWebhooks struct {
	mu  sync.Mutex
	ids []int64
	err error
}

func (f *fakeWebhooks) Enqueue(ctx context.Context, tx *store.Tx, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.ids = append(f.ids, id)
	return nil
}

const rulesYAML = `mql: score >= 60
handoff:
  reject_reasons: [no_budget, bad_fit]
  routes:
    - to: [anna@sales.example]
  digest: "CRON_TZ=UTC 0 8 * * *"
`

func setup(t *testing.T) *bundle {
	t.Helper()
	st, db := pgtest.NewStore(t)
	c, err := mailer.NewComposer(mailer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rules, ps := scoring.Parse("scoring.yaml", []byte(rulesYAML))
	if rules == nil {
		t.Fatal(ps)
	}
	base, _ := url.Parse("http://nurture.test")
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC))
	b := &bundle{db: db, store: st, clock: clk, hooks: &fakeWebhooks{}, steps: &fakeStages{}}
	b.again = func() *Service {
		s, err := New(st, b.steps, c, templates.FS, slog.New(slog.DiscardHandler), clk.Now, Options{
			From: "Acme <news@acme.example>", BaseURL: base, Signer: token.NewSigner([]byte(strings.Repeat("k", 32))),
			Rules: func() *scoring.Rules { return rules }, Webhooks: b.hooks,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	b.svc = b.again()
	return b
}

// mql writes a confirmed lead at stage mql with an open handoff to owner,
// as the funnel leaves it before it calls Opened.
func (b *bundle) mql(t *testing.T, email, owner string) store.Handoff {
	t.Helper()
	ctx := context.Background()
	now := b.clock.Now()
	h := store.Handoff{CreatedAt: now, Owner: owner, Score: 70, Fit: 20, Engagement: 50, Status: store.HandoffOpen}
	err := b.store.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		if h.LeadID, err = tx.InsertLead(ctx, lead.Signup{Email: email}, now, nil); err != nil {
			return err
		}
		if _, err = tx.ConfirmLead(ctx, h.LeadID, lead.SignupData{}, now, now); err != nil {
			return err
		}
		_, err = tx.SetStage(ctx, h.LeadID, store.StageChange{To: lead.StageMQL, Actor: "scoring"}, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.db.Get(&h.ID, `INSERT INTO handoffs (lead_id, created_at, route, owner, score, fit, engagement)
		VALUES ($1, $2, 0, $3, 70, 20, 50) RETURNING id`, h.LeadID, now, owner); err != nil {
		t.Fatal(err)
	}
	return h
}

var errHook = errors.New("webhook queue unavailable")

// Each test takes a migrated database from the binary's pool; see pgtest.
func TestMain(m *testing.M) { os.Exit(pgtest.RunParallel(m, 8)) }
