package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/clock"
	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/devmail/devmailtest"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/logtest"
	"github.com/nurture/nurture/internal/outbox"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/templates"
)

// harness is a running Nurture with its own database, mail catcher, ports
// and fake clock, so that tests run in parallel. Its configuration never
// comes from the process's environment.
//
// This file is the one place where the tests call into the server's
// wiring: start, and the accessors below. A change to how the server is
// wired changes these and nothing else.
type harness struct {
	t     testing.TB
	base  string
	clock *clock.Fake
	mail  *devmail.Server
	app   *app
	cfg   *config.Config
}

const adminToken = "test-admin-token-0123456789"

// start runs a server configured with the harness's settings and env's
// NURTURE_* settings over them.
func start(t testing.TB, env map[string]string) *harness {
	t.Helper()
	return startWith(t, env, nil)
}

// startWith is start with a last change to the loaded configuration.
func startWith(t testing.TB, env map[string]string, configure func(*config.Config)) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	mail := devmailtest.Start(t)
	dbURL := pgtest.URL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	settings := map[string]string{
		"NURTURE_DATABASE_URL": dbURL,
		"NURTURE_SMTP_URL":     "smtp://" + mail.SMTPAddr(),
		"NURTURE_BASE_URL":     base,
		"NURTURE_SECRET":       strings.Repeat("k", 32),
		"NURTURE_FROM":         "Acme News <news@acme.example>",
		"NURTURE_ADMIN_TOKEN":  adminToken,
		"NURTURE_LISTEN":       ln.Addr().String(),
	}
	if _, ok := env["NURTURE_CAMPAIGNS"]; !ok {
		settings["NURTURE_CAMPAIGNS"] = webinarForm(t)
	}
	for k, v := range env {
		settings[k] = v
	}
	cfg, err := config.Load(func(n string) string { return settings[n] }, config.ServeNeeds...)
	if err != nil {
		t.Fatal(err)
	}
	if configure != nil {
		configure(cfg)
	}
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC))
	a := serveApp(t, ctx, cancel, cfg, testLog(t), clk.Now, ln)
	return &harness{t: t, base: base, clock: clk, mail: mail, app: a, cfg: cfg}
}

// serveApp wires the server and serves on ln until the test ends.
func serveApp(t testing.TB, ctx context.Context, cancel func(), cfg *config.Config, log *slog.Logger, now func() time.Time, ln net.Listener) *app {
	t.Helper()
	a, err := wire(ctx, cfg, log, now)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && err != http.ErrServerClosed {
			t.Errorf("serve: %v", err)
		}
		a.close()
	})
	return a
}

// testLog writes the server's log to the test's with -v; otherwise it
// keeps it, and prints it only if the test fails, so that a failure that
// happens once in many runs can still be read. Benchmarks discard it.
func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(&testWriter{t}, nil))
	}
	if _, bench := t.(*testing.B); bench {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var b logtest.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server's log:\n%s", b.String())
		}
	})
	return b.Logger(slog.LevelInfo)
}

type testWriter struct{ t testing.TB }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// What the tests reach inside a running server for.

func (h *harness) db() *sqlx.DB         { return h.app.store.DB() }
func (h *harness) store() *store.Store  { return h.app.store }
func (h *harness) relay() *outbox.Relay { return h.app.relay }

// campaigns is the campaign set the server runs.
func (h *harness) campaigns() *campaign.Set { return h.app.seq.set() }

// reload reads the campaign files again, as SIGHUP does.
func (h *harness) reload() error { return h.app.seq.reload() }

// wake makes the dispatcher look for due steps now.
func (h *harness) wake() { h.app.dispatch.Wake() }

// purge runs the hourly purge of never-confirmed leads now.
func (h *harness) purge(ctx context.Context) (int64, error) { return h.app.optin.Purge(ctx) }

// onStage enrols the lead in tx in the sequences its new stage triggers.
func (h *harness) onStage(ctx context.Context, tx *store.Tx, id int64, stage lead.Stage) error {
	return h.app.dispatch.OnStage(ctx, tx, id, stage, h.clock.Now())
}

// handOff does what the funnel does when a lead becomes an MQL, with a
// handoffs row inserted before: moves the lead to mql and calls the
// handoff service's Opened, in one transaction.
func (h *harness) handOff(ctx context.Context, ho store.Handoff) error {
	return h.app.store.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := h.app.dispatch.StageChanged(ctx, tx, ho.LeadID, store.StageChange{To: lead.StageMQL, Actor: "scoring", Reason: "mql rule"}, h.clock.Now()); err != nil {
			return err
		}
		return h.app.handoff.Opened(ctx, tx, ho)
	})
}

// digestDue runs the minute's look at the digest schedule now.
func (h *harness) digestDue(ctx context.Context) (int, error) { return h.app.handoff.DigestDue(ctx) }

// library is a campaigns folder loaded as the server loads it, without a
// database and without running: for tests of loading and reloading.
type library struct {
	set    func() *campaign.Set
	reload func() error
}

func loadLibrary(cfg *config.Config, log *slog.Logger) (library, error) {
	s, err := wireSequences(nil, cfg, templates.FS, log, time.Now)
	if err != nil {
		return library{}, err
	}
	return library{set: s.set, reload: s.reload}, nil
}

// env is settings as the campaigns commands read the environment, with
// nothing from the process's own.
func env(settings map[string]string) func() (config.Source, error) {
	return func() (config.Source, error) {
		return func(name string) string { return settings[name] }, nil
	}
}

// operatorEnv is the harness's settings as an operator's shell would have
// them when running the campaigns commands.
func (h *harness) operatorEnv() func() (config.Source, error) {
	return env(map[string]string{
		"NURTURE_DATABASE_URL":   h.cfg.DatabaseURL,
		"NURTURE_BASE_URL":       h.cfg.BaseURL.String(),
		"NURTURE_SECRET":         string(h.cfg.Secret),
		"NURTURE_FROM":           h.cfg.From,
		"NURTURE_POSTAL_ADDRESS": h.cfg.PostalAddress,
		"NURTURE_CAMPAIGNS":      h.cfg.Campaigns,
		"NURTURE_SMTP_URL":       h.cfg.SMTPURL,
	})
}

// advance moves the fake clock on by d once no mail is being sent. The
// catcher has a mail before the relay marks it sent, and a jump past the
// node's lease (5 s) in between would let the relay claim the mail again
// and send it twice.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	waitFor(h.t, "the relay to mark what it sent", func() bool {
		var sending int
		if err := h.db().Get(&sending, `SELECT count(*) FROM messages WHERE status = 'sending'`); err != nil {
			h.t.Fatal(err)
		}
		return sending == 0
	})
	h.clock.Advance(d)
}

// settle waits until the server has done everything due at the fake
// clock: no active enrolment is due, no mail is queued or being sent, and
// the catcher holds every mail sent. It is the barrier before a check that
// something did not happen.
func (h *harness) settle() {
	h.t.Helper()
	waitFor(h.t, "the server to finish what is due", func() bool {
		h.wake()
		var n struct{ Due, Pending, Sent int }
		err := h.db().Get(&n, `SELECT
			(SELECT count(*) FROM enrolments WHERE state = 'active' AND due_at <= $1) AS due,
			(SELECT count(*) FROM messages WHERE status IN ('queued', 'sending')) AS pending,
			(SELECT count(*) FROM messages WHERE status = 'sent') AS sent`, h.clock.Now())
		if err != nil {
			h.t.Fatal(err)
		}
		return n.Due == 0 && n.Pending == 0 && n.Sent == len(h.mail.Messages())
	})
}
