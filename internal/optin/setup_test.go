package optin

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/clock"
	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/devmail/devmailtest"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/outbox"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
	"github.com/nurture/nurture/templates"
)

// bundle is an opt-in service on a database of its own, with a mail
// catcher behind a relay and a clock the test controls. Mail waits in the
// outbox until deliver sends it.
type bundle struct {
	db    *sqlx.DB
	store *store.Store
	svc   *Service
	clock *clock.Fake
	mail  *devmail.Server
	relay *outbox.Relay

	mu        sync.Mutex
	confirmed []int64 // the leads OnConfirmed ran for, in order
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return setupWith(t, Options{})
}

// setupWith is setup with options for the service; From and OnConfirmed
// are the bundle's.
func setupWith(t *testing.T, opts Options) *bundle {
	t.Helper()
	ctx := context.Background()
	st, db := pgtest.NewStore(t)
	mail := devmailtest.Start(t)
	smtpCfg, err := mailer.ParseURL("smtp://" + mail.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	pool := mailer.NewPool(smtpCfg, log)
	t.Cleanup(func() { pool.Close(ctx) })
	c, err := mailer.NewComposer(mailer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse("http://nurture.test")
	if err != nil {
		t.Fatal(err)
	}
	links := link.New(base, token.NewSigner([]byte(strings.Repeat("k", 32))), "")
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC))
	b := &bundle{db: db, store: st, clock: clk, mail: mail, relay: outbox.New(st, pool, log, clk.Now, outbox.Config{Workers: 1})}
	opts.From = "Acme <news@acme.example>"
	opts.OnConfirmed = func(_ context.Context, _ *store.Tx, leadID int64, _ time.Time) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.confirmed = append(b.confirmed, leadID)
		return nil
	}
	b.svc, err = New(st, c, links, templates.FS, log, clk.Now, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.svc.Wait)
	return b
}

// deliver sends the mail due in the outbox to the catcher and returns
// every mail caught so far.
func (b *bundle) deliver(t *testing.T) []devmail.Message {
	t.Helper()
	if _, err := b.relay.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	return b.mail.Messages()
}

// onlyMail delivers and returns the one new mail since the n caught before.
func (b *bundle) onlyMail(t *testing.T, n int) devmail.Message {
	t.Helper()
	msgs := b.deliver(t)
	if len(msgs) != n+1 {
		t.Fatalf("%d mails caught, want %d", len(msgs), n+1)
	}
	return msgs[n]
}

var (
	confirmToken     = regexp.MustCompile(`/confirm/([A-Za-z0-9_-]+)`)
	unsubscribeToken = regexp.MustCompile(`/unsubscribe/([^>\s]+)>`)
)

// tokens are the confirmation and unsubscribe tokens of a confirmation mail.
func tokens(t *testing.T, m devmail.Message) (confirm, unsubscribe string) {
	t.Helper()
	c := confirmToken.FindStringSubmatch(m.Text)
	u := unsubscribeToken.FindStringSubmatch(m.Header.Get("List-Unsubscribe"))
	if c == nil || u == nil {
		t.Fatalf("no confirmation link or no unsubscribe link in the mail:\n%s\n%s", m.Header.Get("List-Unsubscribe"), m.Text)
	}
	return c[1], u[1]
}

// subscribe signs email up, and fails the test if it is refused.
func (b *bundle) subscribe(t *testing.T, email string) {
	t.Helper()
	if err := b.svc.Subscribe(context.Background(), signupOf(email), lead.Evidence{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("subscribe %s: %v", email, err)
	}
}

// signedUp subscribes email, wants the one confirmation mail and returns
// its tokens.
func (b *bundle) signedUp(t *testing.T, email string) (confirm, unsubscribe string) {
	t.Helper()
	b.subscribe(t, email)
	return tokens(t, b.onlyMail(t, 0))
}

// lookup is the lead with its ledger, and the kinds of its ledger entries.
func (b *bundle) lookup(t *testing.T, email string) (*Detail, string) {
	t.Helper()
	d, err := b.svc.Lookup(context.Background(), email)
	if err != nil {
		t.Fatalf("lookup %s: %v", email, err)
	}
	var kinds []string
	for _, e := range d.Ledger {
		kinds = append(kinds, string(e.Kind))
	}
	return d, strings.Join(kinds, " ")
}

func (b *bundle) confirmedLeads() []int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int64(nil), b.confirmed...)
}

func TestMain(m *testing.M) { os.Exit(pgtest.RunParallel(m, 8)) }
