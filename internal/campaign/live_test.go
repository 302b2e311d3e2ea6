package campaign

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLive_LoadsAFolderMissingAtStartOnTheFirstReloadAfterItAppears(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "campaigns")
	logs := &logRecorder{records: make(chan slog.Record, 100)}
	live, err := OpenLive(LiveConfig{Dir: dir, Templates: testLayouts, Log: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	logs.waitFor(t, "campaigns: folder not found; no sequences run until it exists")
	if n := len(live.Set().Sequences); n != 0 {
		t.Fatalf("%d sequences without a folder", n)
	}
	if err := live.Reload(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Reload without the folder = %v", err)
	}
	logs.waitFor(t, "campaigns: folder not found; no sequences run")

	changed := live.Changes()
	reload := make(chan os.Signal, 1)
	done := make(chan struct{})
	go func() { live.Run(t.Context(), reload); close(done) }()
	<-live.Started()
	for name, content := range goodFiles {
		edit(t, dir, name, content)
	}
	reload <- os.Interrupt // any value: the server sends SIGHUP
	// The load starts a watch of the folder; both say so, in either order.
	if seen := logs.waitFor(t, "campaigns: watching for edits"); !strings.Contains(strings.Join(seen, "\n"), "campaigns: loaded on SIGHUP") {
		logs.waitFor(t, "campaigns: loaded on SIGHUP")
	}
	<-changed
	if live.Set().Step("welcome/hello") == nil {
		t.Fatal("the folder did not load")
	}
	// From then on the folder is watched as well.
	edit(t, dir, "welcome/01-hello.md", "---\nsubject: Edited\n---\nHi.")
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no reload after the edit")
	}
	if got := live.Set().Step("welcome/hello").Subject; got != "Edited" {
		t.Errorf("subject after the edit = %q", got)
	}
	select {
	case <-done:
		t.Fatal("Run ended before its context")
	default:
	}
}

func TestLive_ReloadKeepsTheLastGoodSetAndRunEndsWithItsContext(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, goodFiles)
	logs := &logRecorder{records: make(chan slog.Record, 100)}
	vetted := 0
	live, err := OpenLive(LiveConfig{Dir: dir, Templates: testLayouts, Log: slog.New(logs), Vet: func(*Set) []Problem { vetted++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	logs.waitFor(t, "campaigns: loaded")
	logs.waitFor(t, "campaigns: no signup forms")
	good := live.Set()
	edit(t, dir, "welcome/01-hello.md", "---\nsubject: Broken\ndelay: soon\n---\nHi.")
	var inv *InvalidError
	if err := live.Reload(); !errors.As(err, &inv) || live.Set() != good {
		t.Fatalf("Reload of a broken edit = %v; the set was replaced: %v", err, live.Set() != good)
	}
	select {
	case <-live.Changes():
		t.Error("Changes told of a rejected edit")
	default:
	}
	seen := logs.waitFor(t, "01-hello.md:3: delay")
	if !strings.Contains(strings.Join(seen, "\n"), "edit rejected, still using the last good version") {
		t.Errorf("logs %q do not say the edit was rejected", seen)
	}
	edit(t, dir, "welcome/01-hello.md", "---\nsubject: Fixed\n---\nHi.")
	if err := live.Reload(); err != nil || live.Set().Step("welcome/hello").Subject != "Fixed" {
		t.Fatalf("Reload of a fix = %v", err)
	}
	select {
	case <-live.Changes():
	default:
		t.Error("Changes did not tell of the fix")
	}
	logs.waitFor(t, "campaigns: reloaded on SIGHUP")
	if vetted != 2 {
		t.Errorf("vetted %d loads, want the two that were valid", vetted)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { live.Run(ctx, nil); close(done) }()
	<-live.Started()
	logs.waitFor(t, "campaigns: watching for edits")
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end with its context")
	}
}

func TestOpenLive_FailsOnInvalidFiles(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"welcome/sequence.md": "---\ntrigger: sometimes\n---\n"})
	_, err := OpenLive(LiveConfig{Dir: dir, Templates: testLayouts, Log: slog.New(slog.DiscardHandler)})
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("OpenLive = %v; want an *InvalidError", err)
	}
}
