package webhook_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/logtest"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/webhook"
)

// A 410 marks the receiver gone: a later handoff is not posted to it at
// all (gone, with an attempt saying why), the 410 is logged once, and a
// redelivery clears the mark, so the handoffs after it are posted again.
func TestDelivery_GoneStopsLaterHandoffsToThatReceiver(t *testing.T) {
	t.Parallel()
	b := setup(t, status(410), status(200))
	var logs logtest.Buffer
	svc := b.service(t, b.recv.srv.URL, webhook.Config{AllowPrivate: true, Retry: fast, Log: logs.Logger(slog.LevelInfo)})
	b.enqueueID(t, svc, b.handoff)
	b.waitStateOf(t, b.handoff, store.WebhookGone)

	later := []int64{b.newHandoff(t, "ben@example.com"), b.newHandoff(t, "cem@example.com")}
	for _, id := range later {
		b.enqueueID(t, svc, id)
	}
	for _, id := range later {
		b.waitStateOf(t, id, store.WebhookGone)
		as := b.attemptsOf(t, id)
		if len(as) != 1 || as[0].Status != 0 || !contains(as[0].Error, "not attempted") ||
			!contains(as[0].Error, "410 Gone") || as[0].URL != b.recv.srv.URL {
			t.Errorf("handoff %d attempts = %+v, want one saying it was not attempted after a 410", id, as)
		}
	}
	if n := len(b.recv.received()); n != 1 {
		t.Errorf("the receiver got %d posts, want only the one it answered 410", n)
	}
	if n := logs.Count("410 Gone"); n != 1 {
		t.Errorf("the 410 is logged %d times, want once:\n%s", n, logs.String())
	}

	if err := svc.Redeliver(context.Background(), later[0]); err != nil {
		t.Fatal(err)
	}
	b.waitStateOf(t, later[0], store.WebhookDelivered)
	next := b.newHandoff(t, "dora@example.com")
	b.enqueueID(t, svc, next)
	b.waitStateOf(t, next, store.WebhookDelivered)
	if got := b.stateOf(t, later[1]); got != store.WebhookGone {
		t.Errorf("a handoff skipped before the redelivery is %q, want still gone until redelivered itself", got)
	}
	if n := len(b.recv.received()); n != 3 {
		t.Errorf("the receiver got %d posts, want 3 (the 410, the redelivery, the next handoff)", n)
	}
}

// The mark belongs to the URL: once scoring.yaml names another, handoffs
// go there, and the old URL, named again later, is posted to again.
func TestDelivery_GoneMarkEndsWhenTheURLChanges(t *testing.T) {
	t.Parallel()
	b := setup(t, status(410), status(200))
	var url atomic.Pointer[string]
	set := func(u string) { url.Store(&u) }
	set(b.recv.srv.URL + "/old")
	rules := func() *scoring.Rules {
		return &scoring.Rules{Handoff: &scoring.Handoff{Webhook: &scoring.Webhook{URL: *url.Load(), SecretEnv: "TEST_WEBHOOK_SECRET"}}}
	}
	svc := b.service(t, "", webhook.Config{AllowPrivate: true, Retry: fast, Rules: rules})
	b.enqueueID(t, svc, b.handoff)
	b.waitStateOf(t, b.handoff, store.WebhookGone)

	set(b.recv.srv.URL + "/new")
	second := b.newHandoff(t, "ben@example.com")
	b.enqueueID(t, svc, second)
	b.waitStateOf(t, second, store.WebhookDelivered)
	if as := b.attemptsOf(t, second); len(as) != 1 || as[0].URL != b.recv.srv.URL+"/new" || as[0].Status != 200 {
		t.Errorf("attempts after the URL changed = %+v, want one 200 to /new", as)
	}

	set(b.recv.srv.URL + "/old")
	third := b.newHandoff(t, "cem@example.com")
	b.enqueueID(t, svc, third)
	b.waitStateOf(t, third, store.WebhookDelivered)
	if n := len(b.recv.received()); n != 3 {
		t.Errorf("the receiver got %d posts, want 3", n)
	}
}

// newHandoff writes a confirmed lead of its own and an open handoff of it.
func (b *bundle) newHandoff(t *testing.T, email string) int64 {
	t.Helper()
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var id int64
	b.must(t, b.db.Get(&id, `WITH l AS (
		INSERT INTO leads (email, status, stage, source, score, fit, engagement, created_at, updated_at, confirmed_at)
		VALUES ($1, 'confirmed', 'mql', 'ebook', 70, 20, 50, $2, $2, $2) RETURNING id)
		INSERT INTO handoffs (lead_id, created_at, route, owner, score, fit, engagement)
		SELECT id, $2, 0, 'ben@sales.example', 70, 20, 50 FROM l RETURNING id`, email, at))
	return id
}

func (b *bundle) enqueueID(t *testing.T, svc *webhook.Service, id int64) {
	t.Helper()
	b.must(t, b.st.WithTx(context.Background(), func(tx *store.Tx) error { return svc.Enqueue(context.Background(), tx, id) }))
}

func (b *bundle) stateOf(t *testing.T, id int64) string {
	t.Helper()
	var s string
	b.must(t, b.db.Get(&s, `SELECT webhook FROM handoffs WHERE id = $1`, id))
	return s
}

// waitStateOf waits for handoff id's webhook state to become want.
func (b *bundle) waitStateOf(t *testing.T, id int64, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for b.stateOf(t, id) != want {
		if time.Now().After(deadline) {
			t.Fatalf("handoff %d: webhook state is %q after 20s, want %q; attempts: %+v", id, b.stateOf(t, id), want, b.attemptsOf(t, id))
		}
		time.Sleep(10 * time.Millisecond) // polling River's workers, not waiting out a delay
	}
}

func (b *bundle) attemptsOf(t *testing.T, id int64) []store.WebhookAttempt {
	t.Helper()
	as, err := b.st.WebhookAttempts(context.Background(), id)
	b.must(t, err)
	return as
}
