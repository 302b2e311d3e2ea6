package main

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/config"
)

func TestReload_InvalidEditKeepsTheLastGoodSetAndLogsEachProblem(t *testing.T) {
	t.Parallel()
	dir := writeCampaigns(t, map[string]string{
		"welcome/sequence.md": "---\ntrigger: confirmed\n---\n",
		"welcome/01-hello.md": "---\nsubject: Hello\ndelay: 0\n---\nHi.\n",
	})
	logs := &logLines{}
	cfg := &config.Config{Campaigns: dir, From: "Acme <news@acme.example>", PostalAddress: "Acme GmbH", DefaultTimezone: time.UTC}
	s, err := loadLibrary(cfg, slog.New(logs))
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

// cp -r campaigns/welcome campaigns/webinar, then SIGHUP: the log names
// the new sequence and warns that new signups would get both.
func TestReload_LogsWhatChangedAndWarnsOfACopiedTrigger(t *testing.T) {
	t.Parallel()
	dir := writeCampaigns(t, map[string]string{
		"welcome/sequence.md": "---\ntrigger: confirmed\nsources: [newsletter]\n---\n",
		"welcome/01-hello.md": "---\nsubject: Hello\ndelay: 0\n---\nHi.\n",
	})
	var logs bytes.Buffer
	cfg := &config.Config{Campaigns: dir, From: "Acme <news@acme.example>", PostalAddress: "Acme GmbH", DefaultTimezone: time.UTC}
	s, err := loadLibrary(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "webinar"), os.DirFS(filepath.Join(dir, "welcome"))); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	if err := s.reload(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	want := []string{
		`level=INFO msg="campaigns: reloaded on SIGHUP" sequences=2 warnings=1 added="sequence webinar with 1 step"`,
		`level=WARN msg="campaigns: ` + dir + `/welcome/sequence.md:2: warning: trigger confirmed, from newsletter: webinar enrols the same leads, so each of them gets both sequences at once; give one its own trigger or sources (a copy belongs in _drafts/ until it has them)"`,
	}
	if len(lines) != len(want) {
		t.Fatalf("log:\n%s\nwant:\n%s", logs.String(), strings.Join(want, "\n"))
	}
	for i, l := range lines {
		if _, rest, _ := strings.Cut(l, " "); rest != want[i] { // after time=…
			t.Errorf("log line %d:\n%s\nwant:\n%s", i, rest, want[i])
		}
	}

	// A SIGHUP with nothing edited says so, without repeating the warning.
	logs.Reset()
	if err := s.reload(); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := strings.Cut(strings.TrimSpace(logs.String()), " "); got != `level=INFO msg="campaigns: reloaded on SIGHUP; nothing changed" sequences=2 warnings=1` {
		t.Errorf("log of a reload without edits:\n%s", logs.String())
	}
}

// Only the default folder may be missing at start (one set explicitly must
// exist), so the configuration left NURTURE_CAMPAIGNS unset gets, in place
// of the default ./campaigns, a folder that does not exist yet: the test
// changes no working folder and runs in parallel.
func TestSIGHUP_LoadsACampaignsFolderThatWasMissingAtStart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "campaigns")
	h := startWith(t, map[string]string{"NURTURE_TICK": "20ms", "NURTURE_CAMPAIGNS": ""}, func(cfg *config.Config) {
		if cfg.Campaigns != "./campaigns" {
			t.Fatalf("the default campaigns folder is %q", cfg.Campaigns)
		}
		cfg.Campaigns = dir
	})
	if n := len(h.campaigns().Sequences); n != 0 {
		t.Fatalf("%d sequences without a folder", n)
	}
	// Once the server answers, it has set up its signal handling; without
	// a handler, SIGHUP would end this process.
	if res := h.do("GET", "/healthz", "", nil); res.status != 200 {
		t.Fatalf("healthz: %d", res.status)
	}
	writeFile(t, dir, "welcome/sequence.md", "---\ntrigger: confirmed\n---\n")
	writeFile(t, dir, "welcome/01-hello.md", "---\nsubject: Hello, {{ .Lead.FirstName }}\ndelay: 0\n---\nHi.\n")
	// Nothing watches the folder yet: only a SIGHUP loads it. Wait for
	// the step, not the sequence, since a SIGHUP that a test running
	// beside this one sent may load the folder between the two writes.
	waitFor(t, "the folder loaded on SIGHUP", func() bool {
		if h.campaigns().Step("welcome/hello") != nil {
			return true
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		return false
	})
	h.confirmAnna(1)
	if m := h.waitMail(2); m.Subject != "Hello, Anna" {
		t.Fatalf("step after the SIGHUP load: %q", m.Subject)
	}
	// From then on the folder is watched as well.
	writeFile(t, dir, "welcome/01-hello.md", "---\nsubject: Edited\ndelay: 0\n---\nHi.\n")
	waitFor(t, "the edit reloaded by the watcher", func() bool {
		return h.campaigns().Step("welcome/hello").Subject == "Edited"
	})
}

func TestWatch_ALayoutEditInNURTURE_TEMPLATESReloadsTheCampaigns(t *testing.T) {
	t.Parallel()
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
		r, err := campaign.Render(h.campaigns().Step("welcome/hello"), campaign.SampleData())
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
