package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/nurture/nurture/internal/jobs"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/webhook"
)

// The receiver fails twice, then takes the handoff: it is delivered, each
// attempt is recorded, and every post verifies with the Standard Webhooks
// project's own Go library, under one webhook-id.
func TestDelivery_FailsTwiceThenSucceeds(t *testing.T) {
	t.Parallel()
	b := setup(t, status(500), status(502), status(204))
	svc := b.service(t, b.recv.srv.URL+"/hooks/nurture", webhook.Config{AllowPrivate: true, Retry: fast})
	b.enqueue(t, svc)
	if got := b.state(t); got != store.WebhookPending {
		t.Fatalf("after Enqueue the webhook is %q, want pending", got)
	}
	b.waitState(t, store.WebhookDelivered)

	as := b.attempts(t)
	if len(as) != 3 || as[0].Status != 500 || as[1].Status != 502 || as[2].Status != 204 {
		t.Fatalf("attempts = %+v, want 500, 502, 204", as)
	}
	for _, a := range as {
		if a.URL != b.recv.srv.URL+"/hooks/nurture" {
			t.Errorf("attempt url = %q", a.URL)
		}
	}
	got := b.recv.received()
	if len(got) != 3 {
		t.Fatalf("the receiver got %d posts, want 3", len(got))
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if err := wh.Verify(r.body, r.header); err != nil {
			t.Errorf("post %d does not verify: %v", i+1, err)
		}
		if id := r.header.Get("webhook-id"); id != got[0].header.Get("webhook-id") || id == "" {
			t.Errorf("post %d webhook-id = %q, want the first's %q", i+1, id, got[0].header.Get("webhook-id"))
		}
	}
	tampered := append([]byte(nil), got[2].body...)
	tampered[len(tampered)-2] ^= 1
	if err := wh.Verify(tampered, got[2].header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("a changed body verified: %v", err)
	}
	b.waitJob(t, "completed")
}

// The payload is built from the database at delivery: the lead, figures,
// owner, consent and counted activity, newest first.
func TestDelivery_PayloadTellsTheWholeStory(t *testing.T) {
	t.Parallel()
	b := setup(t, status(200))
	svc := b.fastService(t)
	b.exec(t, `UPDATE leads SET score = 80, engagement = 60 WHERE email = 'anna@example.com'`)
	b.enqueue(t, svc)
	b.waitState(t, store.WebhookDelivered)

	p := decode(t, b.recv.received()[0].body)
	d := p.Data
	if p.Type != webhook.EventType || d.Handoff.ID != b.handoff || d.Handoff.Score != 72 {
		t.Errorf("envelope = %s %+v", p.Type, d.Handoff)
	}
	if d.Lead.Email != "anna@example.com" || d.Lead.FirstName != "Anna" || d.Lead.LastName != "Berg" || d.Lead.Attributes.String("company") != "Acme" {
		t.Errorf("lead = %+v", d.Lead)
	}
	if d.Score != 80 || d.Fit != 20 || d.Engagement != 60 || d.Temperature != "hot" || d.Stage != "mql" || d.Owner != "ben@sales.example" {
		t.Errorf("figures = score %d fit %d engagement %d %s %s %s", d.Score, d.Fit, d.Engagement, d.Temperature, d.Stage, d.Owner)
	}
	c := d.Consent
	if !c.Confirmed || c.ConfirmedAt == nil || c.Source != "ebook" || c.SourceURL != "https://acme.example/ebook" || c.ConsentVersion != "v3" || !c.Tracking {
		t.Errorf("consent = %+v", c)
	}
	var types []string
	for _, a := range d.Activity {
		types = append(types, a.Type+" "+a.URL)
	}
	want := "demo_requested |click https://acme.example/pricing|download https://acme.example/ebook.pdf"
	if strings.Join(types, "|") != want {
		t.Errorf("activity = %q, want %q (newest first, no scanner)", strings.Join(types, "|"), want)
	}
}

// A 503 with Retry-After: the next attempt is scheduled that far on, not
// by the backoff.
func TestDelivery_RetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	svc := b.fastService(t)
	b.enqueue(t, svc)
	as := b.waitAttempts(t, 1)
	at := b.waitJob(t, "scheduled")
	if wait := at.Sub(as[0].At); wait < 119*time.Second || wait > 125*time.Second {
		t.Errorf("the next attempt is %v after the first, want 120s", wait)
	}
	if n := len(b.attempts(t)); n != 1 || b.state(t) != store.WebhookPending {
		t.Errorf("%d attempts, state %s; want 1, pending", n, b.state(t))
	}
}

// A 410 stops delivery: the handoff's webhook is gone, and the job is over.
// Redelivering tries again.
func TestDelivery_GoneStopsAndRedeliverTriesAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, status(410), status(200))
	svc := b.fastService(t)
	b.enqueue(t, svc)
	b.waitState(t, store.WebhookGone)
	b.waitJob(t, "cancelled")
	if as := b.attempts(t); len(as) != 1 || as[0].Status != 410 {
		t.Errorf("attempts = %+v, want one 410", as)
	}

	if err := svc.Redeliver(context.Background(), b.handoff); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, store.WebhookDelivered)
	if as := b.attempts(t); len(as) != 2 || as[1].Status != 200 {
		t.Errorf("attempts = %+v, want 410 then 200", as)
	}
	if err := svc.Redeliver(context.Background(), b.handoff+100); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("redeliver of no handoff: %v, want ErrNotFound", err)
	}
}

// A delivery that fails for longer than Retry.For is given up.
func TestDelivery_FailsWhenRetriesAreOver(t *testing.T) {
	t.Parallel()
	b := setup(t, status(500))
	retry := fast
	retry.For = 30 * time.Millisecond
	svc := b.service(t, b.recv.srv.URL, webhook.Config{AllowPrivate: true, Retry: retry})
	b.enqueue(t, svc)
	b.waitState(t, store.WebhookFailed)
	as := b.attempts(t)
	if len(as) < 2 || as[len(as)-1].At.Sub(as[0].At) < retry.For {
		t.Errorf("given up after %d attempts spanning %v, want ≥ 2 spanning ≥ %v", len(as), as[len(as)-1].At.Sub(as[0].At), retry.For)
	}
	b.waitJob(t, "cancelled")
}

// Without NURTURE_WEBHOOK_ALLOW_PRIVATE, a receiver on 127.0.0.1 is
// refused, also when reached by a name (localhost) that resolves to it:
// the address is checked when it is dialled.
func TestDelivery_RefusesLoopback(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			b := setup(t, status(200))
			url := strings.Replace(b.recv.srv.URL, "127.0.0.1", host, 1)
			svc := b.service(t, url, webhook.Config{Retry: fast})
			b.enqueue(t, svc)
			as := b.waitAttempts(t, 1)
			if as[0].Status != 0 || !contains(as[0].Error, "refused") {
				t.Errorf("attempt = %+v, want refused", as[0])
			}
			if n := len(b.recv.received()); n != 0 {
				t.Errorf("the receiver got %d posts", n)
			}
		})
	}
}

// Without a webhook in scoring.yaml, Enqueue does nothing: the handoff's
// webhook stays none and no job is queued.
func TestEnqueue_WithoutWebhookDoesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, status(200))
	svc := b.service(t, "", webhook.Config{})
	b.enqueue(t, svc)
	if got := b.state(t); got != store.WebhookNone {
		t.Errorf("webhook = %q, want none", got)
	}
	var n int
	b.must(t, b.db.Get(&n, `SELECT count(*) FROM river_job`))
	if n != 0 {
		t.Errorf("%d jobs queued", n)
	}
	if err := svc.Redeliver(context.Background(), b.handoff); !errors.Is(err, webhook.ErrNoWebhook) {
		t.Errorf("redeliver: %v, want ErrNoWebhook", err)
	}
}

// A job inserted in a transaction that rolls back is never delivered.
func TestEnqueue_RollsBackWithItsTransaction(t *testing.T) {
	t.Parallel()
	b := setup(t, status(200))
	svc := b.fastService(t)
	errRollback := errors.New("roll back")
	err := b.st.WithTx(context.Background(), func(tx *store.Tx) error {
		if err := svc.Enqueue(context.Background(), tx, b.handoff); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	var n int
	b.must(t, b.db.Get(&n, `SELECT count(*) FROM river_job`))
	if n != 0 || b.state(t) != store.WebhookNone {
		t.Errorf("%d jobs, webhook %s after a rollback", n, b.state(t))
	}
}

// A failed attempt is retried when the schedule says: River takes the
// delay from the worker's retry policy.
func TestDelivery_FailureIsRetriedOnTheSchedule(t *testing.T) {
	t.Parallel()
	b := setup(t, status(500))
	retry := webhook.Retry{Base: time.Hour, Max: 4 * time.Hour, Jitter: 0.2, For: 24 * time.Hour}
	svc := b.service(t, b.recv.srv.URL, webhook.Config{AllowPrivate: true, Retry: retry})
	b.enqueue(t, svc)
	as := b.waitAttempts(t, 1)
	at := b.waitJob(t, "retryable")
	if wait := at.Sub(as[0].At); wait < 48*time.Minute || wait > 73*time.Minute {
		t.Errorf("the retry is %v after the attempt, want 1h ± 20%%", wait)
	}
	if b.state(t) != store.WebhookPending || as[0].Status != 500 {
		t.Errorf("state %s, attempt %+v", b.state(t), as[0])
	}
}

// A server that starts while its database is away still starts; the job
// queue follows once the database is back, and delivers.
func TestStart_WaitsForTheDatabaseThenDelivers(t *testing.T) {
	t.Parallel()
	b := setup(t, status(204))
	unblock := pgtest.Block(t, b.db)
	rules := &scoring.Rules{Handoff: &scoring.Handoff{Webhook: &scoring.Webhook{URL: b.recv.srv.URL + "/hooks", SecretEnv: "TEST_WEBHOOK_SECRET"}}}
	q, err := jobs.New(b.st.DB().DB, jobs.Config{Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := webhook.New(b.st, webhook.Config{
		Rules: func() *scoring.Rules { return rules }, Jobs: q, AllowPrivate: true, Retry: fast,
		Getenv: func(string) string { return secret },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := q.Start(ctx); err != nil {
		t.Fatalf("Start with the database away: %v", err)
	}
	defer q.Stop(context.Background())
	unblock()
	b.enqueue(t, svc)
	b.waitState(t, store.WebhookDelivered)
}
