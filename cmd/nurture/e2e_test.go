package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/clock"
	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/pgtest"
)

// harness is a running Nurture with its own database and mail catcher.
type harness struct {
	t     testing.TB
	base  string
	clock *clock.Fake
	mail  *devmail.Server
	app   *app
	cfg   *config.Config
}

const adminToken = "test-admin-token-0123456789"

func start(t testing.TB, env map[string]string) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	mail := devmail.New(devmail.Config{SMTPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
	if err := mail.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mail.Close() })
	_, dbURL := pgtest.NewDB(t)
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
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(&testWriter{t}, nil))
	}
	a, err := wire(ctx, cfg, log, clk.Now)
	if err != nil {
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
	return &harness{t: t, base: base, clock: clk, mail: mail, app: a, cfg: cfg}
}

// webinarForm is a campaigns folder with one form, the default: what a
// harness serves unless a test names its own folder.
func webinarForm(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "forms"), 0o755); err != nil {
		t.Fatal(err)
	}
	form := "---\ntitle: Join the webinar\nsource: webinar\nconsent: Yes, invite me.\nconsent_version: w1\nfields: [first_name, last_name, company]\n---\nOur monthly webinar.\n"
	if err := os.WriteFile(filepath.Join(dir, "forms", "webinar.md"), []byte(form), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type testWriter struct{ t testing.TB }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

type response struct {
	status int
	body   string
	header http.Header
}

func (h *harness) do(method, path, contentType string, body io.Reader, hdr ...string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "journey-test/1.0")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, string(b), res.Header}
}

func (h *harness) subscribeJSON(v any) response {
	b, _ := json.Marshal(v)
	return h.do("POST", "/api/v1/subscribe", "application/json", bytes.NewReader(b))
}

func signup(email string) map[string]any {
	return map[string]any{
		"email": email, "first_name": "Anna", "last_name": "Schmidt", "source": "ebook-datensicherheit",
		"consent_text":    "Yes, send me the e-book and related mail. I can unsubscribe at any time.",
		"consent_version": "ebook-v3",
		"attributes":      map[string]any{"company": "Acme GmbH", "timezone": "Europe/Berlin"},
		"source_url":      "https://www.acme.example/ebook",
	}
}

// waitMail waits for the n-th caught mail.
func (h *harness) waitMail(n int) devmail.Message {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := h.mail.WaitFor(ctx, n)
	if err != nil {
		h.t.Fatalf("waiting for mail %d: %v", n, err)
	}
	return msgs[n-1]
}

type leadView struct {
	ID        int64          `json:"id"`
	Email     string         `json:"email"`
	FirstName string         `json:"first_name"`
	LastName  string         `json:"last_name"`
	Source    string         `json:"source"`
	Status    string         `json:"status"`
	Stage     string         `json:"stage"`
	Attrs     map[string]any `json:"attributes"`
	Ledger    []struct {
		Kind           string `json:"kind"`
		At             string `json:"at"`
		IP             string `json:"ip"`
		UserAgent      string `json:"user_agent"`
		ConsentText    string `json:"consent_text"`
		ConsentVersion string `json:"consent_version"`
		Source         string `json:"source"`
		SourceURL      string `json:"source_url"`
		MessageID      string `json:"message_id"`
		Mail           string `json:"mail"`
	} `json:"consent_ledger"`
}

func (h *harness) lead(ref string) leadView {
	h.t.Helper()
	res := h.do("GET", "/api/v1/leads/"+url.PathEscape(ref), "", nil, "Authorization", "Bearer "+adminToken)
	if res.status != 200 {
		h.t.Fatalf("lead %s: %d %s", ref, res.status, res.body)
	}
	var v leadView
	if err := json.Unmarshal([]byte(res.body), &v); err != nil {
		h.t.Fatal(err)
	}
	return v
}

var confirmLink = regexp.MustCompile(`http://[^\s"<>]+/confirm/[A-Za-z0-9_-]+`)

func linkIn(t *testing.T, m devmail.Message) string {
	t.Helper()
	l := confirmLink.FindString(m.Text)
	if l == "" {
		t.Fatalf("no confirmation link in:\n%s", m.Text)
	}
	return l
}

func TestJourney_SignupConfirmUnsubscribe(t *testing.T) {
	h := start(t, nil)

	// 1. A person subscribes, and the mail arrives.
	res := h.subscribeJSON(signup("Anna.Schmidt@Example.COM"))
	if res.status != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s", res.status, res.body)
	}
	m := h.waitMail(1)
	if m.To[0] != "anna.schmidt@example.com" || m.Subject != "Please confirm your subscription" {
		t.Fatalf("mail to %v subject %q", m.To, m.Subject)
	}
	if m.HTML == "" || m.Text == "" {
		t.Fatal("confirmation mail lacks an HTML or a text part")
	}
	link := linkIn(t, m)
	path := strings.TrimPrefix(link, h.base)

	// 2. A GET on the link shows the page, and the lead is still pending.
	page := h.do("GET", path, "", nil)
	if page.status != 200 || !strings.Contains(page.body, `method="post"`) {
		t.Fatalf("confirm page: %d %s", page.status, page.body)
	}
	if l := h.lead("anna.schmidt@example.com"); l.Status != "pending" {
		t.Fatalf("GET changed the lead to %s", l.Status)
	}

	// 3. A POST confirms the lead, and the ledger holds both entries with every field.
	h.clock.Advance(3 * time.Minute)
	res = h.do("POST", path, "application/x-www-form-urlencoded", nil, "User-Agent", "Mozilla/5.0 confirm")
	if res.status != 200 || !strings.Contains(res.body, "You&#39;re in!") && !strings.Contains(res.body, "You're in!") {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	l := h.lead("anna.schmidt@example.com")
	if l.Status != "confirmed" || len(l.Ledger) != 2 {
		t.Fatalf("after confirm: %+v", l)
	}
	su, co := l.Ledger[0], l.Ledger[1]
	if su.Kind != "signup" || su.At != "2026-11-02T09:30:00.000Z" || su.IP != "127.0.0.1" || su.UserAgent != "journey-test/1.0" ||
		su.ConsentText != signup("")["consent_text"] || su.ConsentVersion != "ebook-v3" ||
		su.Source != "ebook-datensicherheit" || su.SourceURL != "https://www.acme.example/ebook" {
		t.Errorf("signup entry: %+v", su)
	}
	if su.Mail != string(m.Raw) {
		t.Errorf("ledger mail differs from the mail SMTP received:\nledger: %q\nsmtp:   %q", su.Mail, m.Raw)
	}
	if co.Kind != "confirmation" || co.At != "2026-11-02T09:33:00.000Z" || co.IP != "127.0.0.1" || co.UserAgent != "Mozilla/5.0 confirm" ||
		co.ConsentText != su.ConsentText || co.ConsentVersion != "ebook-v3" || co.Source != "ebook-datensicherheit" {
		t.Errorf("confirmation entry: %+v", co)
	}
	// The chain of proof: the signup caused this mail, and the confirmation
	// confirmed the link in it.
	if mid := m.Header.Get("Message-Id"); mid == "" || su.MessageID != mid || co.MessageID != mid || co.Mail != "" {
		t.Errorf("mail %q: the signup names %q, the confirmation %q (with the mail attached: %v)", mid, su.MessageID, co.MessageID, co.Mail != "")
	}
	again := h.do("POST", path, "application/x-www-form-urlencoded", nil)
	if again.status != 200 || !strings.Contains(again.body, "Already confirmed") {
		t.Fatalf("second confirm: %d %s", again.status, again.body)
	}
	if n := len(h.lead("anna.schmidt@example.com").Ledger); n != 2 {
		t.Fatalf("second confirm wrote to the ledger: %d entries", n)
	}

	// 4. A one-click POST unsubscribes the address, and it is suppressed.
	if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe-Post = %q", m.Header.Get("List-Unsubscribe-Post"))
	}
	lu := m.Header.Get("List-Unsubscribe")
	unsub := regexp.MustCompile(`<(http[^>]+)>`).FindStringSubmatch(lu)
	if unsub == nil || !strings.Contains(lu, "<mailto:") {
		t.Fatalf("List-Unsubscribe = %q", lu)
	}
	// A mail client posts without cookies, with exactly this body.
	res = h.do("POST", strings.TrimPrefix(unsub[1], h.base), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if res.status != 200 {
		t.Fatalf("one-click unsubscribe: %d %s", res.status, res.body)
	}
	l = h.lead("anna.schmidt@example.com")
	if l.Status != "unsubscribed" || len(l.Ledger) != 3 {
		t.Fatalf("after unsubscribe: %+v", l)
	}
	// The entry says which consent was withdrawn.
	if un := l.Ledger[2]; un.Kind != "unsubscribe" || un.IP != "127.0.0.1" || un.UserAgent != "journey-test/1.0" ||
		un.ConsentText != su.ConsentText || un.ConsentVersion != "ebook-v3" || un.Source != "ebook-datensicherheit" {
		t.Errorf("unsubscribe entry: %+v", un)
	}
	var suppressed bool
	h.app.store.DB().Get(&suppressed, `SELECT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = sha256('anna.schmidt@example.com'))`)
	if !suppressed {
		t.Fatal("address not on the suppression list")
	}
}

// The confirmation mail goes from the committing signup straight to the
// relay: it is never claimed from the outbox, and its record is exact.
func TestSignup_ConfirmationMailIsHandedToTheRelay(t *testing.T) {
	h := start(t, nil)
	ctx := context.Background()
	for { // until Run has started
		if room := h.app.relay.Reserve(ctx, 1, false); room != nil {
			room.Cancel()
			break
		}
		time.Sleep(time.Millisecond)
	}
	if res := h.subscribeJSON(signup("handed@example.com")); res.status != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s", res.status, res.body)
	}
	h.waitMail(1)
	deadline := time.Now().Add(10 * time.Second)
	for h.app.relay.Stats().Sent < 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if s := h.app.relay.Stats(); s.Handed != 1 || s.Sent != 1 {
		t.Fatalf("relay stats %+v, want the one mail handed and sent", s)
	}
	counts, err := h.app.store.OutboxCounts(ctx)
	if err != nil || len(counts) != 1 || counts[0].Status != "sent" || counts[0].N != 1 || counts[0].Repeats != 0 {
		t.Fatalf("outbox %+v, %v", counts, err)
	}
}

// GET /api/v1 (what make run prints) is an index of what the server serves.
func TestAPIIndex_ListsEveryEndpoint(t *testing.T) {
	h := start(t, nil)
	var index struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Endpoints []struct {
			Method string `json:"method"`
			Path   string `json:"path"`
			Admin  bool   `json:"admin"`
		} `json:"endpoints"`
	}
	for _, path := range []string{"/api/v1", "/api/v1/"} {
		res := h.do("GET", path, "", nil)
		if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %s", path, res.status, res.body)
		}
		if err := json.Unmarshal([]byte(res.body), &index); err != nil {
			t.Fatal(err)
		}
		if index.Name != "nurture" || index.Version != version {
			t.Fatalf("%s: name %q version %q", path, index.Name, index.Version)
		}
	}
	want := map[string]bool{ // method and path: needs the admin token
		"POST /api/v1/subscribe":                       false,
		"GET /subscribe":                               false,
		"GET /readyz":                                  false,
		"GET /api/v1/leads/{ref}":                      true,
		"DELETE /api/v1/leads/{ref}":                   true,
		"POST /api/v1/leads/{ref}/events":              true,
		"POST /api/v1/sequences/{sequence}/enrolments": true,
	}
	listed := map[string]bool{}
	fill := strings.NewReplacer("{ref}", "nobody@example.com", "{sequence}", "welcome", "{token}", "nope")
	for _, e := range index.Endpoints {
		key := e.Method + " " + e.Path
		listed[key] = e.Admin
		// Every listed endpoint is served, and asks for the token exactly
		// when the index says so.
		res := h.do(e.Method, fill.Replace(e.Path), "", nil)
		if res.body == "404 page not found\n" || res.status == http.StatusMethodNotAllowed {
			t.Errorf("%s is listed but not served: %d", key, res.status)
		}
		if (res.status == http.StatusUnauthorized) != e.Admin {
			t.Errorf("%s: admin %v, but an anonymous request got %d", key, e.Admin, res.status)
		}
	}
	for key, admin := range want {
		if got, ok := listed[key]; !ok || got != admin {
			t.Errorf("%s: listed %v admin %v, want admin %v", key, ok, got, admin)
		}
	}
}
