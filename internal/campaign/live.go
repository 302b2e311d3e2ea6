package campaign

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
)

// LiveConfig says where a server's campaign files are and how they go live.
type LiveConfig struct {
	Dir       string // the campaigns folder
	Templates fs.FS  // the layouts the campaigns use
	// Also are more folders whose edits reload the campaigns, such as a
	// templates folder on disk.
	Also []string
	Vet  Vet // every load passes it before it goes live; nil for none
	Log  *slog.Logger
}

// Live is the campaign files of a running server: a Library once the
// folder exists, reloaded on every edit and on every signal Run is given.
// A folder missing at the start is loaded by the first reload after it
// appears, and watched from then on. Changes says when a new Set went
// live. Its methods are safe for concurrent use.
type Live struct {
	cfg     LiveConfig
	library atomic.Pointer[Library] // nil while the folder does not exist
	empty   *Set
	changed chan struct{}

	mu      sync.Mutex // guards the adoption of a library and the run's state
	running *liveRun   // nil before Run and after it ended
	started chan struct{}
}

// liveRun is what one Run has going.
type liveRun struct {
	ctx     context.Context
	watches sync.WaitGroup
}

// OpenLive loads the campaign files under cfg.Dir. Files with errors fail
// it with an *InvalidError that names each problem's path:line; a missing
// folder only warns, since a server may run the opt-in alone.
func OpenLive(cfg LiveConfig) (*Live, error) {
	l := &Live{cfg: cfg, empty: &Set{}, changed: make(chan struct{}, 1), started: make(chan struct{})}
	if _, err := os.Stat(cfg.Dir); errors.Is(err, fs.ErrNotExist) {
		cfg.Log.Warn("campaigns: folder not found; no sequences run until it exists and the server gets SIGHUP", "dir", cfg.Dir)
		return l, nil
	}
	lib, err := NewLibrary(cfg.Dir, cfg.Templates, l.options()...)
	if err != nil {
		return nil, err
	}
	lib.OnChange(l.change)
	l.library.Store(lib)
	set := lib.Set()
	cfg.Log.Info("campaigns: loaded", "dir", cfg.Dir, "sequences", len(set.Sequences), "forms", len(set.Forms), "warnings", len(set.Warnings))
	for _, p := range set.Warnings {
		cfg.Log.Warn("campaigns: " + p.String())
	}
	if len(set.Forms) == 0 {
		cfg.Log.Warn("campaigns: no signup forms: /subscribe answers 404 until there is a file forms/NAME.md", "dir", cfg.Dir)
	}
	return l, nil
}

func (l *Live) options() []LibraryOption {
	if l.cfg.Vet == nil {
		return nil
	}
	return []LibraryOption{WithVet(l.cfg.Vet)}
}

// Set returns the current valid Set; an empty one while the folder does
// not exist.
func (l *Live) Set() *Set {
	if lib := l.library.Load(); lib != nil {
		return lib.Set()
	}
	return l.empty
}

// Changes receives a value after a reload that went live, so that what
// reads the Set, such as the sequence engine, looks at once. Changes that
// come while the last one is not received yet are told once.
func (l *Live) Changes() <-chan struct{} { return l.changed }

func (l *Live) change(*Set) {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// Started is closed once Run watches the files, so that an edit made from
// then on reloads them, and listens for reload signals.
func (l *Live) Started() <-chan struct{} { return l.started }

// Run watches the campaign files for edits and reloads them on every
// value from reload (the server's SIGHUP), until ctx ends. It returns once
// every watch it started has stopped. A Live runs once.
func (l *Live) Run(ctx context.Context, reload <-chan os.Signal) {
	run := &liveRun{ctx: ctx}
	l.mu.Lock()
	l.running = run
	if lib := l.library.Load(); lib != nil {
		l.watch(run, lib)
	}
	l.mu.Unlock()
	close(l.started)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-reload:
			l.Reload()
		}
	}
	l.mu.Lock()
	l.running = nil
	l.mu.Unlock()
	run.watches.Wait()
}

// watch watches lib's files for the run from the time it returns, so that
// Started means edits are seen; l.mu is held.
func (l *Live) watch(run *liveRun, lib *Library) {
	w, err := lib.watcher(l.cfg.Log, l.cfg.Also...)
	if err != nil {
		l.cfg.Log.Error("campaigns: cannot watch for edits; reload with SIGHUP", "err", err)
		return
	}
	run.watches.Go(func() {
		if err := lib.watchLoop(run.ctx, w, l.cfg.Log); err != nil {
			l.cfg.Log.Error("campaigns: watching for edits stopped; reload with SIGHUP", "err", err)
		}
	})
}

// Reload reads the campaign files again, as SIGHUP asks. A folder that was
// missing is loaded once it exists, and watched from then on while Run
// runs. Files with errors are rejected, each problem logged on a line of
// its own as path:line: message, and the last good version stays live.
func (l *Live) Reload() error {
	log := l.cfg.Log
	if lib := l.library.Load(); lib != nil {
		c, err := lib.ReloadChanges()
		if err != nil {
			logRejected(log, err)
			return err
		}
		logReloaded(log, "campaigns: reloaded on SIGHUP", c, lib.Set())
		return nil
	}
	if _, err := os.Stat(l.cfg.Dir); err != nil {
		log.Warn("campaigns: folder not found; no sequences run", "dir", l.cfg.Dir, "err", err)
		return err
	}
	lib, err := NewLibrary(l.cfg.Dir, l.cfg.Templates, l.options()...)
	if err != nil {
		logRejected(log, err)
		return err
	}
	lib.OnChange(l.change)
	l.mu.Lock()
	l.library.Store(lib)
	if l.running != nil {
		l.watch(l.running, lib)
	}
	l.mu.Unlock()
	l.change(lib.Set())
	log.Info("campaigns: loaded on SIGHUP", "dir", l.cfg.Dir, "sequences", len(lib.Set().Sequences))
	return nil
}
