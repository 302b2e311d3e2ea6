package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/outbox"
)

// The helpers the feature tests share: requests, mail, leads and
// campaign folders.

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

func countMessages(t *testing.T, h *harness, email string) int {
	t.Helper()
	var n int
	if err := h.db().Get(&n, `SELECT count(*) FROM messages WHERE recipient = $1`, email); err != nil {
		t.Fatal(err)
	}
	return n
}

func writeCampaigns(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		writeFile(t, dir, name, body)
	}
	return dir
}

func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls ok until it holds, for work that happens in the background
// (a signal, a file watcher); it fails the test after ten seconds.
func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logLines is a slog handler that keeps every message with its level.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, r.Level.String()+" "+r.Message)
	return nil
}
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logLines) WithGroup(string) slog.Handler      { return l }

func (l *logLines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// confirmAnna signs anna@example.com up through the API and confirms her
// with the link of the confirmation mail, the n-th mail caught.
func (h *harness) confirmAnna(n int) {
	h.t.Helper()
	if res := h.subscribeJSON(signup("anna@example.com")); res.status != http.StatusAccepted {
		h.t.Fatalf("subscribe: %d %s", res.status, res.body)
	}
	m := h.waitMail(n)
	l := confirmLink.FindString(m.Text)
	if l == "" {
		h.t.Fatalf("no confirmation link in:\n%s", m.Text)
	}
	if res := h.do("POST", strings.TrimPrefix(l, h.base), "application/x-www-form-urlencoded", nil); res.status != 200 {
		h.t.Fatalf("confirm: %d %s", res.status, res.body)
	}
}

// unsubscribeVia follows the one-click List-Unsubscribe URL of a mail.
func (h *harness) unsubscribeVia(m devmail.Message) {
	h.t.Helper()
	u := regexp.MustCompile(`<(http[^>]+)>`).FindStringSubmatch(m.Header.Get("List-Unsubscribe"))
	if u == nil {
		h.t.Fatalf("List-Unsubscribe = %q", m.Header.Get("List-Unsubscribe"))
	}
	res := h.do("POST", strings.TrimPrefix(u[1], h.base), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if res.status != 200 {
		h.t.Fatalf("unsubscribe: %d %s", res.status, res.body)
	}
}

func (h *harness) suppressed(email string) bool {
	h.t.Helper()
	var ok bool
	if err := h.db().Get(&ok, `SELECT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = sha256(convert_to($1, 'UTF8')))`, email); err != nil {
		h.t.Fatal(err)
	}
	return ok
}

func (h *harness) sequencesOf(id int64) []string {
	h.t.Helper()
	es, err := h.store().EnrolmentsOf(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Sequence)
	}
	return out
}

// waitStarted waits until the relay's Run takes reservations.
func waitStarted(t testing.TB, r *outbox.Relay) {
	t.Helper()
	select {
	case <-r.Started():
	case <-time.After(10 * time.Second):
		t.Fatal("the relay did not start")
	}
}
