package dispatch_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/clock"
	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/devmail/devmailtest"
	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/outbox"
	"github.com/nurture/nurture/internal/outbox/outboxtest"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
	"github.com/nurture/nurture/internal/tracking"
	"github.com/nurture/nurture/templates"
)

// bundle is a dispatcher and an outbox relay on a fresh database, sending
// to a mail catcher, with campaigns in a temporary folder and a fake clock.
type bundle struct {
	t     *testing.T
	ctx   context.Context
	db    *sqlx.DB
	store *store.Store
	clock *clock.Fake
	mail  *devmail.Server
	relay *outbox.Relay
	disp  *dispatch.Dispatcher
	dir   string
	set   atomic.Pointer[campaign.Set]

	links         *link.Builder
	composer      *mailer.Composer
	cfg           dispatch.Config
	newDispatcher func(dispatch.Config) *dispatch.Dispatcher
}

// runRelay runs b.relay in the background until the test ends, and waits
// until it has started.
func (b *bundle) runRelay() {
	b.t.Helper()
	outboxtest.Run(b.t, b.relay)
}

// withSender returns a dispatcher like b.disp that hands its mail to
// b.relay, which must be running.
func (b *bundle) withSender() *dispatch.Dispatcher {
	cfg := b.cfg
	cfg.Sender = b.relay
	return b.newDispatcher(cfg)
}

// trackSigner signs the tracking tokens of the tests' mail.
var trackSigner = tracking.NewSigner([]byte(strings.Repeat("t", 32)))

func setup(t *testing.T, start time.Time) *bundle {
	t.Helper()
	return setupWith(t, start, dispatch.Config{})
}

// setupWith is setup with dispatcher settings; From and the batch size are
// filled in.
func setupWith(t *testing.T, start time.Time, cfg dispatch.Config) *bundle {
	t.Helper()
	ctx := context.Background()
	st, db := pgtest.NewStore(t)
	mail := devmailtest.Start(t)
	b := &bundle{t: t, ctx: ctx, db: db, store: st, clock: clock.NewFake(start), mail: mail, dir: t.TempDir()}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	base, _ := url.Parse("https://nurture.test")
	links := link.New(base, token.NewSigner([]byte(strings.Repeat("s", 32))), "unsubscribe@acme.example")
	composer, err := mailer.NewComposer(mailer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b.links, b.composer = links, composer
	cfg.From, cfg.Batch = "Acme <news@acme.example>", 50
	if cfg.Signer == nil {
		cfg.Signer = trackSigner
	}
	b.newDispatcher = func(cfg dispatch.Config) *dispatch.Dispatcher {
		d, err := dispatch.New(st, b.set.Load, composer, links, log, b.clock.Now, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	b.cfg = cfg
	b.disp, err = dispatch.New(st, b.set.Load, composer, links, log, b.clock.Now, cfg)
	if err != nil {
		t.Fatal(err)
	}
	smtpCfg, err := mailer.ParseURL("smtp://" + mail.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	smtpCfg.Conns = 2
	pool := mailer.NewPool(smtpCfg, log)
	t.Cleanup(func() { pool.Close(context.Background()) })
	b.relay = outbox.New(st, pool, log, b.clock.Now, outbox.Config{
		Workers: 2, Backoff: func(int) time.Duration { return time.Minute },
		Recompose: b.disp.Recompose,
	})
	return b
}

// write puts a campaign file in place; "" removes it.
func (b *bundle) write(rel, content string) {
	b.t.Helper()
	p := filepath.Join(b.dir, rel)
	if content == "" {
		if err := os.Remove(p); err != nil {
			b.t.Fatal(err)
		}
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// load loads the campaign folder and makes it current.
func (b *bundle) load() {
	b.t.Helper()
	set, problems := campaign.Load(b.dir, templates.FS)
	if set == nil {
		b.t.Fatalf("campaigns do not load: %v", problems)
	}
	b.set.Store(set)
}

// lead adds a confirmed lead and runs the confirmation hook for it.
func (b *bundle) lead(email, first string, attrs lead.Attributes) int64 {
	b.t.Helper()
	var id int64
	now := b.clock.Now()
	b.inTx(func(tx *store.Tx) error {
		var err error
		s := lead.Signup{Email: email, FirstName: first, Source: "web", Attributes: attrs}
		id, err = tx.InsertLead(b.ctx, s, now, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ConfirmLead(b.ctx, id, s.Data(), now, now); err != nil {
			return err
		}
		return b.disp.OnConfirmed(b.ctx, tx, id, now)
	})
	return id
}

// inTx runs fn in a transaction of the store and fails the test if it
// does not commit.
func (b *bundle) inTx(fn func(tx *store.Tx) error) {
	b.t.Helper()
	if err := b.store.WithTx(b.ctx, fn); err != nil {
		b.t.Fatal(err)
	}
}

// run lets the dispatcher and the relay do everything due now.
func (b *bundle) run() {
	b.t.Helper()
	if _, err := b.disp.Drain(b.ctx); err != nil {
		b.t.Fatal(err)
	}
	if _, err := b.relay.Drain(b.ctx); err != nil {
		b.t.Fatal(err)
	}
}

// advance moves the clock and runs.
func (b *bundle) advance(d time.Duration) {
	b.t.Helper()
	b.clock.Advance(d)
	b.run()
}

// subjects lists the subjects caught so far, in order.
func (b *bundle) subjects() []string {
	var out []string
	for _, m := range b.mail.Messages() {
		out = append(out, m.Subject)
	}
	return out
}

// subjectsTo is the subjects of the mails caught, by recipient, in the
// order they were caught.
func (b *bundle) subjectsTo() map[string][]string {
	got := map[string][]string{}
	for _, m := range b.mail.Messages() {
		got[m.To[0]] = append(got[m.To[0]], m.Subject)
	}
	return got
}

// tipsForReaders makes the tips step of threeSteps one for those who
// opened the welcome, and loads the campaigns again.
func (b *bundle) tipsForReaders() {
	b.t.Helper()
	b.write("welcome/02-tips.md", step("Three tips", "2d", "if: opened(previous)\n", "Tips for readers."))
	b.load()
}

// runAt sets the clock to at, runs the dispatcher and wants the subjects
// of all the mails caught so far.
func (b *bundle) runAt(at time.Time, want ...string) {
	b.t.Helper()
	b.clock.Set(at)
	b.run()
	b.wantSubjects(want...)
}

func (b *bundle) wantSubjects(want ...string) {
	b.t.Helper()
	got := b.subjects()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		b.t.Fatalf("at %s mails caught:\n got %q\nwant %q", b.clock.Now().Format(time.RFC3339), got, want)
	}
}

// wantSubjectsAnyOrder is wantSubjects for mails that went out at the same
// moment over several connections.
func (b *bundle) wantSubjectsAnyOrder(want ...string) {
	b.t.Helper()
	got := b.subjects()
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		b.t.Fatalf("at %s mails caught:\n got %q\nwant %q", b.clock.Now().Format(time.RFC3339), got, want)
	}
}

// wantState wants the lead's last enrolment in state (lead.EnrolmentActive, …).
func (b *bundle) wantState(leadID int64, state string) {
	b.t.Helper()
	if e := b.enrolment(leadID); e.State != state {
		b.t.Fatalf("enrolment: %+v", e)
	}
}

// wantStopped wants the lead's last enrolment stopped for reason.
func (b *bundle) wantStopped(leadID int64, reason string) {
	b.t.Helper()
	if e := b.enrolment(leadID); e.State != lead.EnrolmentStopped || e.EndedReason != reason {
		b.t.Fatalf("enrolment: %+v", e)
	}
}

func (b *bundle) enrolment(leadID int64) lead.Enrolment {
	b.t.Helper()
	es, err := b.store.EnrolmentsOf(b.ctx, leadID)
	if err != nil || len(es) == 0 {
		b.t.Fatalf("enrolments of %d: %v, %v", leadID, es, err)
	}
	return es[len(es)-1]
}

// fact keeps a counted signal of a lead at the clock's time, as the
// engagement service does for each event it records: the dispatcher reads
// these, never the events.
func (b *bundle) fact(leadID int64, kind, key string) {
	b.t.Helper()
	b.factAt(leadID, kind, key, "", b.clock.Now())
}

// factAt is fact at a given time, with the URL a click fact names.
func (b *bundle) factAt(leadID int64, kind, key, url string, at time.Time) {
	b.t.Helper()
	_, err := b.db.ExecContext(b.ctx, `
		INSERT INTO lead_facts AS f (lead_id, kind, key, url, first_at, last_at) VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (lead_id, kind, key, url) DO UPDATE SET last_at = EXCLUDED.last_at, count = f.count + 1`,
		leadID, kind, key, url, at)
	if err != nil {
		b.t.Fatal(err)
	}
}

// event keeps the fact of a custom event of a lead, such as demo_booked,
// and enrols the lead in the sequences it triggers, in one transaction, as
// the engagement service does through OnEvent. Exits on the event happen
// when the enrolment is next due.
func (b *bundle) event(leadID int64, typ string) {
	b.t.Helper()
	b.inTx(func(tx *store.Tx) error {
		now := b.clock.Now()
		if err := tx.UpsertFacts(b.ctx, []store.Fact{{LeadID: leadID, Kind: store.FactEvent, Key: typ, FirstAt: now, LastAt: now, Count: 1}}); err != nil {
			return err
		}
		_, err := b.disp.OnEvent(b.ctx, tx, leadID, typ, now)
		return err
	})
}

// opened keeps the facts of an open of step's mail.
func (b *bundle) opened(leadID int64, step string) {
	b.t.Helper()
	b.fact(leadID, store.FactOpen, step)
	b.fact(leadID, store.FactEvent, "open")
}

// clicked keeps the facts of a click on u in step's mail, as recording it
// does: one click fact naming both, and no open, which a click implies.
func (b *bundle) clicked(leadID int64, step, u string) {
	b.t.Helper()
	b.factAt(leadID, store.FactClick, step, u, b.clock.Now())
	b.fact(leadID, store.FactEvent, "click")
}

// viewed keeps the fact of a page view of u on the marketer's site.
func (b *bundle) viewed(leadID int64, u string) {
	b.t.Helper()
	b.fact(leadID, store.FactURL, u)
	b.fact(leadID, store.FactEvent, "page_view")
}

func TestMain(m *testing.M) { os.Exit(pgtest.RunParallel(m, 8)) }
