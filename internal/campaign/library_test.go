package campaign

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var goodFiles = map[string]string{
	"README.md":           "# Campaigns",
	"welcome/sequence.md": testSequence,
	"welcome/01-hello.md": "---\nsubject: Hello\n---\nVersion one.",
}

func edit(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func subjectOf(t *testing.T, l *Library) string {
	t.Helper()
	r, err := Render(l.Set().Step("welcome/hello"), SampleData())
	if err != nil {
		t.Fatal(err)
	}
	return r.Subject
}

func TestLibrary_ReloadRejectsAnInvalidEditAndKeepsTheLastGoodSet(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, goodFiles)
	lib, err := NewLibrary(dir, testLayouts)
	if err != nil {
		t.Fatal(err)
	}
	var changes []*Set
	lib.OnChange(func(s *Set) { changes = append(changes, s) })
	good := lib.Set()

	edit(t, dir, "welcome/01-hello.md", "---\nsubject: Hello {{ .Lead.Nme }}\n---\nVersion two.")
	err = lib.Reload()
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("Reload of an invalid edit = %v, want an *InvalidError", err)
	}
	want := filepath.Join(dir, "welcome/01-hello.md") + ":2: subject: {{ .Lead.Nme }}: can't evaluate field Nme in type *lead.Lead"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the problem as %q", err, want)
	}
	if lib.Set() != good || len(changes) != 0 {
		t.Error("an invalid edit replaced the set")
	}
	if got := subjectOf(t, lib); got != "Hello" {
		t.Errorf("subject after the rejected edit = %q, want the last good one", got)
	}

	edit(t, dir, "welcome/01-hello.md", "---\nsubject: Hello again\n---\nVersion three.")
	if err := lib.Reload(); err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0] != lib.Set() {
		t.Errorf("OnChange saw %d sets", len(changes))
	}
	if got := subjectOf(t, lib); got != "Hello again" {
		t.Errorf("subject = %q after a good edit", got)
	}
}

func TestNewLibrary_FailsOnInvalidFiles(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"welcome/01-hello.md": "---\nsubject: Hi\n---\nHi."})
	if _, err := NewLibrary(dir, testLayouts); err == nil {
		t.Error("NewLibrary accepted a sequence without sequence.md")
	}
}

// logRecorder is a slog handler that hands every record to a channel, so a
// test can wait for a log line instead of sleeping.
type logRecorder struct {
	records chan slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.records <- r
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// waitFor returns the messages logged up to and including the first one
// containing want.
func (h *logRecorder) waitFor(t *testing.T, want string) []string {
	t.Helper()
	return messages(h.waitRecords(t, want))
}

func messages(rs []slog.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Message)
	}
	return out
}

// waitRecords returns the records logged up to and including the first
// one whose message contains want.
func (h *logRecorder) waitRecords(t *testing.T, want string) []slog.Record {
	t.Helper()
	var seen []slog.Record
	timeout := time.After(10 * time.Second)
	for {
		select {
		case r := <-h.records:
			seen = append(seen, r)
			if strings.Contains(r.Message, want) {
				return seen
			}
		case <-timeout:
			t.Fatalf("no log line with %q; saw %q", want, messages(seen))
		}
	}
}

// watch runs lib.Watch, also on the folders named, with a logger that
// records, and waits until it watches. stop ends Watch and wants it to
// return nil.
func watch(t *testing.T, lib *Library, also ...string) (logs *logRecorder, stop func()) {
	t.Helper()
	logs = &logRecorder{records: make(chan slog.Record, 100)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- lib.Watch(ctx, slog.New(logs), also...) }()
	logs.waitFor(t, "campaigns: watching for edits")
	return logs, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch = %v", err)
		}
	}
}

func TestLibrary_WatchReloadsOnSaveAndLogsARejectedEdit(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, goodFiles)
	lib, err := NewLibrary(dir, testLayouts)
	if err != nil {
		t.Fatal(err)
	}
	changed := make(chan *Set, 10)
	lib.OnChange(func(s *Set) { changed <- s })
	logs, stop := watch(t, lib)
	waitChange := func(name, content string) *Set {
		t.Helper()
		edit(t, dir, name, content)
		select {
		case s := <-changed:
			return s
		case <-time.After(10 * time.Second):
			t.Fatalf("no reload after writing %s", name)
			return nil
		}
	}

	s := waitChange("welcome/01-hello.md", "---\nsubject: Saved\n---\nHi.")
	if r, _ := Render(s.Step("welcome/hello"), SampleData()); r.Subject != "Saved" {
		t.Errorf("subject after save = %q", r.Subject)
	}
	logs.waitFor(t, "campaigns: reloaded")

	// A new sequence folder is watched too.
	s = waitChange("onboarding/sequence.md", testSequence)
	if s.Sequence("onboarding") == nil {
		t.Error("the new sequence is missing")
	}
	s = waitChange("onboarding/01-start.md", "---\nsubject: Start\n---\nHi.")
	if s.Step("onboarding/start") == nil {
		t.Error("a step in the new folder was not loaded")
	}

	good := lib.Set()
	edit(t, dir, "welcome/01-hello.md", "---\nsubject: Broken\ndelay: soon\n---\nHi.")
	seen := logs.waitFor(t, "01-hello.md:3: delay")
	if !strings.Contains(strings.Join(seen, "\n"), "edit rejected, still using the last good version") {
		t.Errorf("logs %q do not say the edit was rejected", seen)
	}
	if lib.Set() != good {
		t.Error("the rejected edit replaced the set")
	}
	select {
	case <-changed:
		t.Error("OnChange ran for a rejected edit")
	default:
	}

	stop()
}

func TestLibrary_WatchReloadsWhenALayoutInTheTemplatesFolderChanges(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, goodFiles)
	tpl := writeFiles(t, map[string]string{
		"email/layouts/default.html": `<html><body>{{ .Content }} <a href="{{ .UnsubscribeURL }}">Unsubscribe</a></body></html>`,
		"email/layouts/default.txt":  "{{ .Content }}\nUnsubscribe: {{ .UnsubscribeURL }}\n",
	})
	lib, err := NewLibrary(dir, os.DirFS(tpl))
	if err != nil {
		t.Fatal(err)
	}
	changed := make(chan *Set, 10)
	lib.OnChange(func(s *Set) { changed <- s })
	logs, stop := watch(t, lib, tpl)
	logs.waitFor(t, "campaigns: watching for edits")

	edit(t, tpl, "email/layouts/default.txt", "{{ .Content }}\n-- Acme\nUnsubscribe: {{ .UnsubscribeURL }}\n")
	select {
	case s := <-changed:
		if r, _ := Render(s.Step("welcome/hello"), SampleData()); !strings.Contains(r.Text, "-- Acme") {
			t.Errorf("the edited layout is not in use:\n%s", r.Text)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reload after the layout changed")
	}

	// A broken layout is rejected like a broken campaign file.
	good := lib.Set()
	edit(t, tpl, "email/layouts/default.html", `<html>{{ if .Content }}</html>`)
	logs.waitFor(t, "default.html:1:")
	if lib.Set() != good {
		t.Error("the broken layout replaced the set")
	}
	stop()
}
