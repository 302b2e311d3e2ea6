package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/store"
)

// sequences are the campaign files a server runs, kept live: loaded at
// start, reloaded on SIGHUP and on edits. Changed fires on every change,
// so the dispatcher built over them looks at once.
type sequences struct {
	dir       string // the campaigns folder
	templates string // a templates folder on disk (NURTURE_TEMPLATES), or ""
	tpl       fs.FS
	log       *slog.Logger
	// library is nil while the campaigns folder does not exist; a reload
	// loads it once it does.
	library atomic.Pointer[campaign.Library]
	empty   *campaign.Set
	changed chan struct{}          // fires (without blocking) when the campaigns changed
	vet     campaign.LibraryOption // the forms' consent versions go live, or the load is refused

	mu      sync.Mutex // guards watch and the adoption of a library
	watch   func(*campaign.Library)
	stopped bool
}

func (s *sequences) set() *campaign.Set {
	if lib := s.library.Load(); lib != nil {
		return lib.Set()
	}
	return s.empty
}

// changes is the signal that the campaigns changed.
func (s *sequences) changes() <-chan struct{} { return s.changed }

func (s *sequences) change() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// wireSequences loads the campaigns. Campaign
// files with errors stop the start, naming path:line; a missing folder only
// warns, since a server may run the opt-in alone.
func wireSequences(st *store.Store, cfg *config.Config, tpl fs.FS, log *slog.Logger, now func() time.Time) (*sequences, error) {
	s := &sequences{dir: cfg.Campaigns, templates: cfg.Templates, tpl: tpl, log: log, empty: &campaign.Set{}, changed: make(chan struct{}, 1),
		vet: campaign.WithVet(registerConsents(st, now))}
	if _, err := os.Stat(cfg.Campaigns); errors.Is(err, fs.ErrNotExist) {
		log.Warn("campaigns: folder not found; no sequences run until it exists and the server gets SIGHUP", "dir", cfg.Campaigns)
	} else {
		lib, err := campaign.NewLibrary(cfg.Campaigns, tpl, s.vet)
		if err != nil {
			return nil, err
		}
		s.library.Store(lib)
		set := lib.Set()
		log.Info("campaigns: loaded", "dir", cfg.Campaigns, "sequences", len(set.Sequences), "forms", len(set.Forms), "warnings", len(set.Warnings))
		for _, p := range set.Warnings {
			log.Warn("campaigns: " + p.String())
		}
		if len(set.Forms) == 0 {
			log.Warn("campaigns: no signup forms: /subscribe answers 404 until there is a file forms/NAME.md", "dir", cfg.Campaigns)
		}
		if cfg.PrivacyURL == "" && len(set.Forms) > 0 {
			log.Warn("NURTURE_PRIVACY_URL is not set: the signup forms and the mails link to no privacy policy, though consent texts usually refer to one")
		}
		if cfg.PostalAddress == "" && len(set.Sequences) > 0 {
			log.Warn("NURTURE_POSTAL_ADDRESS is not set: sequence mails go out without the sender's postal address, which commercial mail must carry")
		}
	}
	if cfg.Fast {
		log.Warn("demo mode (--fast): a day of delay takes ten seconds, send windows are ignored")
	}
	if lib := s.library.Load(); lib != nil {
		lib.OnChange(func(*campaign.Set) { s.change() })
	}
	return s, nil
}

// start runs the reload on SIGHUP and on file changes. The SIGHUP handler
// is there even while the campaigns folder is missing, so a SIGHUP never
// ends the server.
func (s *sequences) start(ctx context.Context, wg *sync.WaitGroup) {
	// Watch the campaigns, and the templates folder whose layouts they
	// use, from now on or from when a reload first finds the folder.
	var also []string
	if s.templates != "" {
		also = append(also, s.templates)
	}
	s.mu.Lock()
	s.watch = func(lib *campaign.Library) {
		wg.Go(func() {
			if err := lib.Watch(ctx, s.log, also...); err != nil {
				s.log.Error("campaigns: cannot watch for edits; reload with SIGHUP", "err", err)
			}
		})
	}
	if lib := s.library.Load(); lib != nil {
		s.watch(lib)
	}
	s.mu.Unlock()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	wg.Go(func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				s.mu.Lock()
				s.stopped = true
				s.mu.Unlock()
				return
			case <-hup:
				s.reload()
			}
		}
	})
}

// reload reads the campaign files again, as SIGHUP asks. A folder that was
// missing is loaded once it exists, and watched from then on. Files with
// errors are rejected, each problem logged on a line of its own as
// path:line: message, and the last good version keeps running.
func (s *sequences) reload() error {
	lib := s.library.Load()
	if lib != nil {
		c, err := lib.ReloadChanges()
		if err != nil {
			campaign.LogRejected(s.log, err)
			return err
		}
		campaign.LogReloaded(s.log, "campaigns: reloaded on SIGHUP", c, lib.Set())
		return nil
	}
	if _, err := os.Stat(s.dir); err != nil {
		s.log.Warn("campaigns: folder not found; no sequences run", "dir", s.dir, "err", err)
		return err
	}
	lib, err := campaign.NewLibrary(s.dir, s.tpl, s.vet)
	if err != nil {
		campaign.LogRejected(s.log, err)
		return err
	}
	lib.OnChange(func(*campaign.Set) { s.change() })
	s.mu.Lock()
	s.library.Store(lib)
	if s.watch != nil && !s.stopped {
		s.watch(lib)
	}
	s.mu.Unlock()
	s.change()
	s.log.Info("campaigns: loaded on SIGHUP", "dir", s.dir, "sequences", len(lib.Set().Sequences))
	return nil
}
