package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/handoff"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
)

// handoffStages moves leads for the handoff through the dispatcher, so a
// decision runs the stage's exits and triggers.
type handoffStages struct{ *dispatch.Dispatcher }

func (s handoffStages) Move(ctx context.Context, tx *store.Tx, leadID int64, sc store.StageChange, now time.Time) (handoff.Moved, error) {
	c, err := s.StageChanged(ctx, tx, leadID, sc, now)
	return handoff.Moved{From: c.From, Enrolled: c.Enrolled}, err
}

// scoringFile is the campaigns folder's scoring.yaml as the handoff reads
// it: parsed again when its modification time changes, the last good
// version staying live after a bad edit. The funnel's loader, with the
// campaign library's reloads, takes its place where it is wired.
type scoringFile struct {
	path string
	log  *slog.Logger

	mu    sync.Mutex
	mod   time.Time
	rules *scoring.Rules
}

func newScoringFile(dir string, log *slog.Logger) *scoringFile {
	return &scoringFile{path: filepath.Join(dir, "scoring.yaml"), log: log}
}

// Rules returns the live rules, or nil when the file is missing or was
// never valid.
func (f *scoringFile) Rules() *scoring.Rules {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, err := os.Stat(f.path)
	if err != nil || fi.ModTime().Equal(f.mod) {
		return f.rules
	}
	f.mod = fi.ModTime()
	data, err := os.ReadFile(f.path)
	if err != nil {
		f.log.Error("scoring: read", "path", f.path, "err", err)
		return f.rules
	}
	r, ps := scoring.Parse(f.path, data)
	if r == nil {
		for _, p := range ps {
			f.log.Error("scoring: the last good version stays live", "problem", p.String())
		}
		return f.rules
	}
	f.rules = r
	return r
}
