package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
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
	h.app.dispatch.Wake()
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
			if _, err := wireSequences(nil, cfg, templates.FS, slog.New(logs), time.Now); err != nil {
				t.Fatal(err)
			}
			warned := slices.ContainsFunc(logs.all(), func(l string) bool { return strings.HasPrefix(l, "WARN NURTURE_POSTAL_ADDRESS is not set") })
			if warned != tt.warn {
				t.Errorf("warned = %v, want %v; log: %q", warned, tt.warn, logs.all())
			}
		})
	}
}

func TestStageAPI_EnrolsOnStageTriggersAndEndsStageExits(t *testing.T) {
	dir := writeCampaigns(t, map[string]string{
		"ebook/sequence.md":     "---\ntrigger: confirmed\nexit:\n  stage: sal\n---\n",
		"ebook/01-download.md":  "---\nsubject: Your e-book\ndelay: 0\n---\nHere it is.\n",
		"ebook/02-follow-up.md": "---\nsubject: Did you read it?\ndelay: 2d\n---\nWell?\n",
		"mql/sequence.md":       "---\ntrigger:\n  stage: mql\n---\n",
		"mql/01-call.md":        "---\nsubject: Shall we talk?\ndelay: 0\n---\nBook a call.\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_TICK": "20ms"})
	h.confirmAnna(1)
	if m := h.waitMail(2); m.Subject != "Your e-book" {
		t.Fatalf("first step: %q", m.Subject)
	}
	put := func(ref, body string) response {
		return h.do("PUT", "/api/v1/leads/"+ref+"/stage", "application/json", strings.NewReader(body), "Authorization", "Bearer "+adminToken)
	}
	change := func(res response) map[string]any {
		t.Helper()
		var v map[string]any
		if res.status != http.StatusOK || json.Unmarshal([]byte(res.body), &v) != nil {
			t.Fatalf("stage: %d %s", res.status, res.body)
		}
		return v
	}

	// mql enrols the lead in the sequence the stage triggers.
	if c := change(put("anna@example.com", `{"stage": "mql"}`)); c["from"] != "lead" || c["stage"] != "mql" || c["enrolled"] != 1.0 || c["exited"] != 0.0 {
		t.Fatalf("to mql: %v", c)
	}
	if m := h.waitMail(3); m.Subject != "Shall we talk?" {
		t.Fatalf("stage-triggered step: %q", m.Subject)
	}
	if l := h.lead("anna@example.com"); l.Stage != "mql" {
		t.Fatalf("the lead's stage is %q", l.Stage)
	}
	// The same stage again changes nothing.
	if c := change(put("anna@example.com", `{"stage": "mql"}`)); c["enrolled"] != 0.0 || c["exited"] != 0.0 {
		t.Fatalf("mql again: %v", c)
	}

	// sql is past the e-book's exit on sal: that enrolment ends at once.
	id := h.lead("anna@example.com").ID
	if c := change(put(strconv.FormatInt(id, 10), `{"stage": "sql"}`)); c["exited"] != 1.0 || c["enrolled"] != 0.0 {
		t.Fatalf("to sql: %v", c)
	}
	es, err := h.app.store.EnrolmentsOf(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Sequence == "ebook" && (e.State != lead.EnrolmentExited || e.EndedReason != "exit: stage sql") {
			t.Fatalf("the e-book enrolment after sql: %+v", e)
		}
	}
	h.clock.Advance(3 * 24 * time.Hour)
	h.app.dispatch.Wake()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := h.mail.WaitCount(ctx, 4); err == nil {
		t.Fatalf("a step went out after the exit: %q", h.mail.Messages()[3].Subject)
	}

	for _, tt := range []struct {
		ref, body string
		status    int
	}{
		{"anna@example.com", `{"stage": "hot"}`, http.StatusUnprocessableEntity},
		{"anna@example.com", `{"stage": ""}`, http.StatusUnprocessableEntity},
		{"anna@example.com", `{"stage": 2}`, http.StatusBadRequest},
		{"anna@example.com", `{}`, http.StatusBadRequest},
		{"anna@example.com", `not json`, http.StatusBadRequest},
		{"nobody@example.com", `{"stage": "mql"}`, http.StatusNotFound},
		{"999999", `{"stage": "mql"}`, http.StatusNotFound},
	} {
		if res := put(tt.ref, tt.body); res.status != tt.status {
			t.Errorf("PUT %s %s: %d %s, want %d", tt.ref, tt.body, res.status, res.body, tt.status)
		}
	}
	if res := h.do("PUT", "/api/v1/leads/anna@example.com/stage", "application/json", strings.NewReader(`{"stage": "sal"}`)); res.status != http.StatusUnauthorized {
		t.Errorf("without the token: %d", res.status)
	}
}

// An enrolment written in the moment its lead unsubscribes commits after
// the unsubscribe, which stops only the enrolments it can see: the
// dispatcher's own check must keep the mail from going out.
func TestUnsubscribe_RacingAnEnrolment_TheDispatcherSendsNothing(t *testing.T) {
	dir := writeCampaigns(t, map[string]string{
		"mql/sequence.md": "---\ntrigger:\n  stage: mql\n---\n",
		"mql/01-call.md":  "---\nsubject: Shall we talk?\ndelay: 0\n---\nBook a call.\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_TICK": "20ms"})
	h.confirmAnna(1)
	confirmation := h.waitMail(1)
	unsub := regexp.MustCompile(`<(http[^>]+)>`).FindStringSubmatch(confirmation.Header.Get("List-Unsubscribe"))
	if unsub == nil {
		t.Fatalf("List-Unsubscribe = %q", confirmation.Header.Get("List-Unsubscribe"))
	}
	ctx := context.Background()
	id := h.lead("anna@example.com").ID
	err := h.app.store.WithTx(ctx, func(tx *store.Tx) error {
		if err := h.app.dispatch.OnStage(ctx, tx, id, lead.StageMQL, h.clock.Now()); err != nil {
			return err
		}
		// The one-click unsubscribe commits while the enrolment is not.
		res := h.do("POST", strings.TrimPrefix(unsub[1], h.base), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if res.status != 200 {
			t.Errorf("one-click unsubscribe: %d %s", res.status, res.body)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if l := h.lead("anna@example.com"); l.Status != "unsubscribed" {
		t.Fatalf("the lead is %s", l.Status)
	}
	h.app.dispatch.Wake()
	deadline := time.Now().Add(10 * time.Second)
	for {
		es, err := h.app.store.EnrolmentsOf(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 1 && es[0].State != lead.EnrolmentActive {
			if es[0].State != lead.EnrolmentStopped || es[0].EndedReason != "lead not confirmed" {
				t.Fatalf("enrolment: %+v", es[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the enrolment is still %+v", es)
		}
		h.app.dispatch.Wake()
		time.Sleep(10 * time.Millisecond)
	}
	for _, m := range h.mail.Messages() {
		if m.Subject == "Shall we talk?" {
			t.Fatal("the unsubscribed lead got the step")
		}
	}
}

func TestReload_InvalidEditKeepsTheLastGoodSetAndLogsEachProblem(t *testing.T) {
	dir := writeCampaigns(t, map[string]string{
		"welcome/sequence.md": "---\ntrigger: confirmed\n---\n",
		"welcome/01-hello.md": "---\nsubject: Hello\ndelay: 0\n---\nHi.\n",
	})
	logs := &logLines{}
	cfg := &config.Config{Campaigns: dir, From: "Acme <news@acme.example>", PostalAddress: "Acme GmbH", DefaultTimezone: time.UTC}
	s, err := wireSequences(nil, cfg, templates.FS, slog.New(logs), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	subject := func() string { return s.set().Step("welcome/hello").Subject }

	writeFile(t, dir, "welcome/01-hello.md", "---\nsubject: Hello again\ndelay: 0\n---\nHi.\n")
	if err := s.reload(); err != nil || subject() != "Hello again" {
		t.Fatalf("reload of a good edit: %v, subject %q", err, subject())
	}
	good := s.set()
	writeFile(t, dir, "welcome/01-hello.md", "---\nsubject: Broken {{ .Lead.Nme }}\ndelay: soon\n---\nHi.\n")
	writeFile(t, dir, "welcome/02-more.md", "---\nsubjet: More\n---\nHi.\n")
	err = s.reload()
	var inv *campaign.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("reload of a broken edit: %v", err)
	}
	if s.set() != good {
		t.Fatal("the broken edit replaced the last good set")
	}
	var problems []string
	for _, l := range logs.all() {
		if strings.Contains(l, "\n") {
			t.Errorf("a log message spans lines: %q", l)
		}
		if p, ok := strings.CutPrefix(l, "ERROR campaigns: "+dir); ok {
			problems = append(problems, p)
		}
	}
	want := []string{
		"/welcome/01-hello.md:2: subject: {{ .Lead.Nme }}",
		"/welcome/01-hello.md:3: delay \"soon\"",
		"/welcome/02-more.md:1: subject is missing",
		"/welcome/02-more.md:2: unknown key \"subjet\"",
	}
	if len(problems) != len(want) {
		t.Fatalf("logged problems %q, want one line for each of %q", problems, want)
	}
	for i, p := range problems {
		if !strings.HasPrefix(p, want[i]) {
			t.Errorf("problem %d logged as %q, want %q…", i, p, want[i])
		}
	}
}

// Only the default folder may be missing at start (one set explicitly must
// exist), so the test runs where ./campaigns does not exist yet.
func TestSIGHUP_LoadsACampaignsFolderThatWasMissingAtStart(t *testing.T) {
	pgtest.URL(t) // sets up the test server while the working folder is still the package's
	work := t.TempDir()
	t.Chdir(work)
	dir := filepath.Join(work, "campaigns")
	h := start(t, map[string]string{"NURTURE_TICK": "20ms", "NURTURE_CAMPAIGNS": ""})
	if n := len(h.app.seq.set().Sequences); n != 0 {
		t.Fatalf("%d sequences without a folder", n)
	}
	// Once the server answers, it has set up its signal handling; without
	// a handler, SIGHUP would end this process.
	if res := h.do("GET", "/healthz", "", nil); res.status != 200 {
		t.Fatalf("healthz: %d", res.status)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "welcome/sequence.md", "---\ntrigger: confirmed\n---\n")
	writeFile(t, dir, "welcome/01-hello.md", "---\nsubject: Hello, {{ .Lead.FirstName }}\ndelay: 0\n---\nHi.\n")
	waitFor(t, "the folder loaded on SIGHUP", func() bool {
		if h.app.seq.set().Sequence("welcome") != nil {
			return true
		}
		syscall.Kill(os.Getpid(), syscall.SIGHUP)
		return false
	})
	h.confirmAnna(1)
	if m := h.waitMail(2); m.Subject != "Hello, Anna" {
		t.Fatalf("step after the SIGHUP load: %q", m.Subject)
	}
	// From then on the folder is watched as well.
	writeFile(t, dir, "welcome/01-hello.md", "---\nsubject: Edited\ndelay: 0\n---\nHi.\n")
	waitFor(t, "the edit reloaded by the watcher", func() bool {
		return h.app.seq.set().Step("welcome/hello").Subject == "Edited"
	})
}

func writeFile(t *testing.T, dir, name, content string) {
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
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWatch_ALayoutEditInNURTURE_TEMPLATESReloadsTheCampaigns(t *testing.T) {
	tpl := t.TempDir()
	if err := os.CopyFS(tpl, os.DirFS("../../templates")); err != nil {
		t.Fatal(err)
	}
	dir := writeCampaigns(t, map[string]string{
		"welcome/sequence.md": "---\ntrigger: confirmed\n---\n",
		"welcome/01-hello.md": "---\nsubject: Hello\ndelay: 0\n---\nHi.\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_TEMPLATES": tpl})
	if res := h.do("GET", "/healthz", "", nil); res.status != 200 {
		t.Fatalf("healthz: %d", res.status)
	}
	text := func() string {
		r, err := campaign.Render(h.app.seq.set().Step("welcome/hello"), campaign.SampleData())
		if err != nil {
			t.Fatal(err)
		}
		return r.Text
	}
	writeFile(t, tpl, "email/layouts/default.txt", "{{ .Content }}\n\n-- \nThe Acme team\n{{ .Footer }}\nUnsubscribe: {{ .UnsubscribeURL }}\n")
	waitFor(t, "the campaigns to reload with the edited layout", func() bool {
		return strings.Contains(text(), "The Acme team")
	})
}
