package campaign

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Library holds the current valid Set of campaign files and swaps in a new
// one when the files change and are still valid. A broken edit never
// replaces a good version: sending goes on with the last good one.
type Library struct {
	dir       string
	templates fs.FS
	current   atomic.Pointer[Set]

	mu    sync.Mutex // one reload at a time, hooks in order
	hooks []func(*Set)
	vet   Vet
}

// Vet checks a Set whose files are valid against what lies outside them,
// such as the consent versions a database keeps, just before it goes live.
// An error among its problems rejects the Set as one in the files would.
type Vet func(*Set) []Problem

// LibraryOption tunes a Library.
type LibraryOption func(*Library)

// WithVet makes every load pass vet before it goes live.
func WithVet(vet Vet) LibraryOption { return func(l *Library) { l.vet = vet } }

// debounce lets an editor finish writing (temporary file, rename, chmod)
// before the files are read again.
const debounce = 200 * time.Millisecond

// NewLibrary loads the campaign files under dir, with layouts from
// templates. It fails when they have errors, since there is no last good
// version to fall back to yet.
func NewLibrary(dir string, templates fs.FS, opts ...LibraryOption) (*Library, error) {
	l := &Library{dir: dir, templates: templates}
	for _, o := range opts {
		o(l)
	}
	if err := l.Reload(); err != nil {
		return nil, err
	}
	return l, nil
}

// Set returns the current valid Set.
func (l *Library) Set() *Set { return l.current.Load() }

// OnChange registers fn to be called with each new Set after a successful
// reload, in the reloading goroutine. fn must not call Reload.
func (l *Library) OnChange(fn func(*Set)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hooks = append(l.hooks, fn)
}

// Reload reads the campaign files again. When they have errors it keeps the
// current Set and returns an *InvalidError that lists them as path:line.
func (l *Library) Reload() error {
	_, err := l.ReloadChanges()
	return err
}

// ReloadChanges is Reload that also says what changed from the Set before,
// for the log.
func (l *Library) ReloadChanges() (Changes, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	set, ps := Load(l.dir, l.templates)
	if set == nil {
		return Changes{}, &InvalidError{Problems: ps}
	}
	if l.vet != nil {
		vps := l.vet(set)
		if HasErrors(vps) {
			all := append(ps, vps...)
			sortProblems(all)
			return Changes{}, &InvalidError{Problems: all}
		}
		set.Warnings = append(set.Warnings, vps...)
	}
	c := Diff(l.current.Load(), set)
	l.current.Store(set)
	for _, fn := range l.hooks {
		fn(set)
	}
	return c, nil
}

// Watch reloads whenever a file under the folder changes, until ctx ends;
// also names more folders to watch the same way, such as a templates
// folder on disk whose layouts the campaigns use. A rejected edit is logged
// with each problem's path:line.
func (l *Library) Watch(ctx context.Context, logger *slog.Logger, also ...string) error {
	w, err := l.watcher(logger, also...)
	if err != nil {
		return err
	}
	return l.watchLoop(ctx, w, logger)
}

// watcher watches the folder and also from the time it returns, so that
// an edit made after it returned is seen.
func (l *Library) watcher(logger *slog.Logger, also ...string) (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	for _, dir := range append([]string{l.dir}, also...) {
		if err := watchTree(w, dir); err != nil {
			w.Close()
			return nil, err
		}
		logger.Debug("campaigns: watching for edits", "dir", dir)
	}
	return w, nil
}

// watchLoop reloads on w's events, debounced, until ctx ends; it closes w.
func (l *Library) watchLoop(ctx context.Context, w *fsnotify.Watcher, logger *slog.Logger) error {
	defer w.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ignoredFile(filepath.Base(ev.Name)) {
				continue
			}
			if ev.Has(fsnotify.Create) && !strings.HasPrefix(filepath.Base(ev.Name), "_") {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					if err := watchTree(w, ev.Name); err != nil {
						logger.Warn("campaigns: cannot watch a new folder", "path", ev.Name, "err", err)
					}
				}
			}
			timer.Reset(debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			logger.Warn("campaigns: watching for edits", "err", err)
		case <-timer.C:
			c, err := l.ReloadChanges()
			if err != nil {
				logRejected(logger, err)
				continue
			}
			logReloaded(logger, "campaigns: reloaded", c, l.Set())
		}
	}
}

// logRejected logs why a reload was rejected: a line that says so, then
// one line per problem, path:line: message.
func logRejected(logger *slog.Logger, err error) {
	var inv *InvalidError
	if !errors.As(err, &inv) {
		logger.Error("campaigns: reload failed, still using the last good version", "err", err)
		return
	}
	logger.Error("campaigns: edit rejected, still using the last good version", "problems", len(inv.Problems))
	for _, p := range inv.Problems {
		level := slog.LevelError
		if p.Severity == SeverityWarning {
			level = slog.LevelWarn
		}
		logger.Log(context.Background(), level, "campaigns: "+p.String())
	}
}

// watchTree watches dir and every folder below it; fsnotify does not
// recurse by itself.
func watchTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
			return filepath.SkipDir // hidden, or a draft that Load leaves alone
		}
		return w.Add(p)
	})
}

// ignoredFile tells editors' swap and backup files, which change while
// typing, from the campaign files.
func ignoredFile(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") || strings.HasSuffix(name, ".swp") || strings.HasSuffix(name, ".tmp")
}
