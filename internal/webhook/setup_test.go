package webhook_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/jobs"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/webhook"
)

// secret is the receiver's whsec_ key.
var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("a key the receiver and nurture share"))

// bundle is what a delivery test needs: a store on its own database, a
// handoff of a confirmed lead with some activity, and a receiver.
type bundle struct {
	db      *sqlx.DB
	st      *store.Store
	handoff int64
	recv    *receiver
}

// receiver answers each post with the next of its answers (the last one
// repeats) and keeps what it was sent.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	answers []func(http.ResponseWriter)
	got     []received
}

type received struct {
	header http.Header
	body   []byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	n := len(r.got)
	r.got = append(r.got, received{req.Header.Clone(), body})
	answer := r.answers[min(n, len(r.answers)-1)]
	r.mu.Unlock()
	answer(w)
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func status(code int) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { w.WriteHeader(code) }
}

func setup(t *testing.T, answers ...func(http.ResponseWriter)) *bundle {
	t.Helper()
	st, db := pgtest.NewStore(t)
	r := &receiver{answers: answers}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	b := &bundle{db: db, st: st, recv: r}
	b.handoff = b.seed(t)
	return b
}

// seed writes a confirmed lead, its confirmation, three counted events and
// a scanner's click, and a handoff of it; it returns the handoff's id.
func (b *bundle) seed(t *testing.T) int64 {
	t.Helper()
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	var lead, handoff int64
	b.must(t, b.db.Get(&lead, `INSERT INTO leads (email, first_name, last_name, status, stage, source, attributes,
		score, fit, engagement, temperature, tracking, created_at, updated_at, confirmed_at)
		VALUES ('anna@example.com', 'Anna', 'Berg', 'confirmed', 'mql', 'ebook', '{"company": "Acme", "company_size": 120}',
		72, 20, 52, 'hot', true, $1, $1, $1) RETURNING id`, at))
	b.exec(t, `INSERT INTO consent_events (lead_id, email_hash, kind, at, consent_version, source, source_url)
		VALUES ($1, sha256('anna@example.com'), 'confirmation', $2, 'v3', 'ebook', 'https://acme.example/ebook')`, lead, at)
	b.exec(t, `INSERT INTO events (lead_id, type, source, url, verdict, at) VALUES
		($1, 'download', 'api', 'https://acme.example/ebook.pdf', 'human', $2::timestamptz + interval '1 hour'),
		($1, 'click', 'click', 'https://acme.example/pricing', 'human', $2::timestamptz + interval '2 hours'),
		($1, 'click', 'click', 'https://acme.example/trap', 'scanner', $2::timestamptz + interval '3 hours'),
		($1, 'demo_requested', 'api', NULL, 'human', $2::timestamptz + interval '4 hours')`, lead, at)
	b.must(t, b.db.Get(&handoff, `INSERT INTO handoffs (lead_id, created_at, route, owner, score, fit, engagement)
		VALUES ($1, $2::timestamptz + interval '4 hours', 0, 'ben@sales.example', 72, 20, 52) RETURNING id`, lead, at))
	return handoff
}

func (b *bundle) must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := b.db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// fast is a retry schedule of milliseconds, so a test sees its retries
// without waiting out the real one.
var fast = webhook.Retry{Base: time.Millisecond, Max: 2 * time.Millisecond, For: time.Hour}

// fastService is a service that posts to the test's receiver, with
// private addresses allowed and the fast retries.
func (b *bundle) fastService(t *testing.T) *webhook.Service {
	t.Helper()
	return b.service(t, b.recv.srv.URL, webhook.Config{AllowPrivate: true, Retry: fast})
}

// service starts a delivery service posting to url (or by cfg.Rules when
// set), stopped when the test ends.
func (b *bundle) service(t *testing.T, url string, cfg webhook.Config) *webhook.Service {
	t.Helper()
	rules := &scoring.Rules{Handoff: &scoring.Handoff{Webhook: &scoring.Webhook{URL: url, SecretEnv: "TEST_WEBHOOK_SECRET"}}}
	if url == "" {
		rules = &scoring.Rules{}
	}
	if cfg.Rules == nil {
		cfg.Rules = func() *scoring.Rules { return rules }
	}
	cfg.Getenv = func(name string) string {
		if name == "TEST_WEBHOOK_SECRET" {
			return secret
		}
		return ""
	}
	q, err := jobs.New(b.st.DB().DB, jobs.Config{Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Jobs = q
	svc, err := webhook.New(b.st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		q.Stop(ctx)
	})
	return svc
}

// enqueue queues the handoff's delivery as the handoff service does: in a
// transaction of its own.
func (b *bundle) enqueue(t *testing.T, svc *webhook.Service) {
	t.Helper()
	b.must(t, b.st.WithTx(context.Background(), func(tx *store.Tx) error { return svc.Enqueue(context.Background(), tx, b.handoff) }))
}

// state is the handoff's webhook state.
func (b *bundle) state(t *testing.T) string {
	t.Helper()
	var s string
	b.must(t, b.db.Get(&s, `SELECT webhook FROM handoffs WHERE id = $1`, b.handoff))
	return s
}

// waitState waits for the handoff's webhook state to become want: the
// deliveries run on River's workers.
func (b *bundle) waitState(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for b.state(t) != want {
		if time.Now().After(deadline) {
			t.Fatalf("webhook state is %q after 20s, want %q; attempts: %+v", b.state(t), want, b.attempts(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (b *bundle) attempts(t *testing.T) []store.WebhookAttempt {
	t.Helper()
	as, err := b.st.WebhookAttempts(context.Background(), b.handoff)
	b.must(t, err)
	return as
}

// waitAttempts waits for n attempts to be recorded.
func (b *bundle) waitAttempts(t *testing.T, n int) []store.WebhookAttempt {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if as := b.attempts(t); len(as) >= n {
			return as
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts after 20s, want %d", len(b.attempts(t)), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// job is the state and schedule of the handoff's last River job.
func (b *bundle) job(t *testing.T) (state string, scheduled time.Time) {
	t.Helper()
	b.must(t, b.db.QueryRow(`SELECT state, scheduled_at FROM river_job
		WHERE kind = 'handoff_webhook' AND (args->>'handoff')::bigint = $1 ORDER BY id DESC LIMIT 1`, b.handoff).Scan(&state, &scheduled))
	return state, scheduled
}

func decode(t *testing.T, body []byte) webhook.Payload {
	t.Helper()
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("payload %s: %v", body, err)
	}
	return p
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// waitJob waits for the handoff's last job to reach state want: River
// records a job's end just after its work returns.
func (b *bundle) waitJob(t *testing.T, want string) time.Time {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		state, at := b.job(t)
		if state == want {
			return at
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job is %s after 20s, want %s", state, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Each test takes a migrated database from the binary's pool; see pgtest.
func TestMain(m *testing.M) { os.Exit(pgtest.RunParallel(m, 8)) }
