package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/templates"
)

// cp -r campaigns/welcome campaigns/webinar, then SIGHUP: the log names
// the new sequence and warns that new signups would get both.
func TestReload_LogsWhatChangedAndWarnsOfACopiedTrigger(t *testing.T) {
	dir := writeCampaigns(t, map[string]string{
		"welcome/sequence.md": "---\ntrigger: confirmed\nsources: [newsletter]\n---\n",
		"welcome/01-hello.md": "---\nsubject: Hello\ndelay: 0\n---\nHi.\n",
	})
	var logs bytes.Buffer
	cfg := &config.Config{Campaigns: dir, From: "Acme <news@acme.example>", PostalAddress: "Acme GmbH", DefaultTimezone: time.UTC}
	s, err := wireSequences(nil, cfg, templates.FS, slog.New(slog.NewTextHandler(&logs, nil)), time.Now)
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
