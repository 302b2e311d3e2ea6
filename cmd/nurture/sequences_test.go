package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/templates"
)

func writeCampaigns(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSequences_ConfirmEnrolsAndStepsGoOutThroughTheServer(t *testing.T) {
	dir := writeCampaigns(t, map[string]string{
		"ebook/sequence.md":       "---\nname: E-book\ntrigger: confirmed\nsources: [ebook-datensicherheit]\n---\n",
		"ebook/01-download.md":    "---\nsubject: Your e-book, {{ .Lead.FirstName }}\ndelay: 0\n---\nHere it is: https://acme.example/ebook.pdf\n",
		"ebook/02-chapter-two.md": "---\nsubject: Chapter two\ndelay: 2d\n---\nMore.\n",
		"other/sequence.md":       "---\ntrigger: confirmed\nsources: [webinar]\n---\n",
		"other/01-x.md":           "---\nsubject: Not for you\ndelay: 0\n---\nx\n",
		"demo/sequence.md":        "---\ntrigger:\n  event: demo_booked\n---\n",
		"demo/01-thanks.md":       "---\nsubject: Thanks for booking a demo\ndelay: 0\n---\nSee you.\n",
		"vip/sequence.md":         "---\ntrigger: manual\n---\n",
		"vip/01-hello.md":         "---\nsubject: A personal hello\ndelay: 0\n---\nHi.\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_TICK": "20ms"})

	if res := h.subscribeJSON(signup("anna@example.com")); res.status != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s", res.status, res.body)
	}
	path := strings.TrimPrefix(linkIn(t, h.waitMail(1)), h.base)
	if res := h.do("POST", path, "application/x-www-form-urlencoded", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	if m := h.waitMail(2); m.Subject != "Your e-book, Anna" || m.Header.Get("List-Unsubscribe") == "" {
		t.Fatalf("first step: %q %v", m.Subject, m.Header)
	}
	h.clock.Advance(2 * 24 * time.Hour)
	h.app.seq.dispatch.Wake()
	if m := h.waitMail(3); m.Subject != "Chapter two" {
		t.Fatalf("second step: %q", m.Subject)
	}

	post := func(path string, v any) response {
		b, _ := json.Marshal(v)
		return h.do("POST", path, "application/json", bytes.NewReader(b), "Authorization", "Bearer "+adminToken)
	}
	if res := post("/api/v1/leads/anna@example.com/events", map[string]string{"type": "demo_booked"}); res.status != http.StatusCreated {
		t.Fatalf("event: %d %s", res.status, res.body)
	}
	if m := h.waitMail(4); m.Subject != "Thanks for booking a demo" {
		t.Fatalf("event step: %q", m.Subject)
	}
	if res := post("/api/v1/sequences/vip/enrolments", map[string]any{"lead": "anna@example.com"}); res.status != http.StatusCreated {
		t.Fatalf("manual enrolment: %d %s", res.status, res.body)
	}
	if m := h.waitMail(5); m.Subject != "A personal hello" {
		t.Fatalf("manual step: %q", m.Subject)
	}
	if res := post("/api/v1/sequences/vip/enrolments", map[string]any{"lead": "anna@example.com"}); res.status != http.StatusConflict {
		t.Fatalf("second manual enrolment: %d %s", res.status, res.body)
	}
	if res := post("/api/v1/sequences/nope/enrolments", map[string]any{"lead": "anna@example.com"}); res.status != http.StatusNotFound {
		t.Fatalf("unknown sequence: %d %s", res.status, res.body)
	}
	time.Sleep(100 * time.Millisecond)
	for _, m := range h.mail.Messages() {
		if m.Subject == "Not for you" {
			t.Fatal("a sequence for another source enrolled the lead")
		}
	}
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

func TestSequences_StepMailCarriesThePostalAddress(t *testing.T) {
	const address = "Acme GmbH · Hafenstraße 1 · 20457 Hamburg · Germany"
	dir := writeCampaigns(t, map[string]string{
		"ebook/sequence.md":    "---\ntrigger: confirmed\n---\n",
		"ebook/01-download.md": "---\nsubject: Your e-book\ndelay: 0\n---\nHere it is: https://acme.example/ebook.pdf\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_POSTAL_ADDRESS": address})
	h.confirmAnna(1)
	m := h.waitMail(2)
	if !strings.Contains(m.HTML, address) || !strings.Contains(m.Text, address) {
		t.Fatalf("the step mail lacks the postal address:\n%s\n%s", m.Text, m.HTML)
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

func TestServe_WarnsAtStartWithoutAPostalAddress(t *testing.T) {
	dir := writeCampaigns(t, map[string]string{
		"ebook/sequence.md":    "---\ntrigger: confirmed\n---\n",
		"ebook/01-download.md": "---\nsubject: Your e-book\ndelay: 0\n---\nHere it is.\n",
	})
	for _, tt := range []struct {
		name, campaigns, address string
		warn                     bool
	}{
		{"sequences without an address", dir, "", true},
		{"sequences with an address", dir, "Acme GmbH · Hafenstraße 1 · Hamburg", false},
		{"no sequences", filepath.Join(t.TempDir(), "none"), "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logLines{}
			cfg := &config.Config{Campaigns: tt.campaigns, PostalAddress: tt.address, From: "Acme <news@acme.example>", DefaultTimezone: time.UTC}
			if _, err := wireSequences(nil, cfg, templates.FS, nil, nil, nil, slog.New(logs), time.Now); err != nil {
				t.Fatal(err)
			}
			warned := slices.ContainsFunc(logs.all(), func(l string) bool { return strings.HasPrefix(l, "WARN NURTURE_POSTAL_ADDRESS is not set") })
			if warned != tt.warn {
				t.Errorf("warned = %v, want %v; log: %q", warned, tt.warn, logs.all())
			}
		})
	}
}
