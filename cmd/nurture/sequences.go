package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
)

// sequences is the sequence engine of a server: the campaign files and the
// dispatcher that walks leads through them.
type sequences struct {
	library  *campaign.Library // nil when the campaigns folder does not exist
	empty    *campaign.Set
	dispatch *dispatch.Dispatcher
}

func (s *sequences) set() *campaign.Set {
	if s.library == nil {
		return s.empty
	}
	return s.library.Set()
}

// wireSequences loads the campaigns and builds the dispatcher. Campaign
// files with errors stop the start, naming path:line; a missing folder only
// warns, since a server may run the opt-in alone.
func wireSequences(st *store.Store, cfg *config.Config, tpl fs.FS, composer *mailer.Composer, links *link.Builder, sender dispatch.Sender, log *slog.Logger, now func() time.Time) (*sequences, error) {
	s := &sequences{empty: &campaign.Set{}}
	if _, err := os.Stat(cfg.Campaigns); errors.Is(err, fs.ErrNotExist) {
		log.Warn("campaigns: folder not found; no sequences run", "dir", cfg.Campaigns)
	} else {
		lib, err := campaign.NewLibrary(cfg.Campaigns, tpl)
		if err != nil {
			return nil, err
		}
		s.library = lib
		set := lib.Set()
		log.Info("campaigns: loaded", "dir", cfg.Campaigns, "sequences", len(set.Sequences), "warnings", len(set.Warnings))
		for _, p := range set.Warnings {
			log.Warn("campaigns: " + p.String())
		}
		if cfg.PostalAddress == "" && len(set.Sequences) > 0 {
			log.Warn("NURTURE_POSTAL_ADDRESS is not set: sequence mails go out without the sender's postal address, which commercial mail must carry")
		}
	}
	if cfg.Fast {
		log.Warn("demo mode (--fast): a day of delay takes ten seconds, send windows are ignored")
	}
	var err error
	s.dispatch, err = dispatch.New(st, s.set, composer, links, log, now, dispatch.Config{
		From:        cfg.From,
		Footer:      cfg.PostalAddress,
		DefaultZone: cfg.DefaultTimezone,
		Tick:        cfg.Tick,
		Fast:        cfg.Fast,
		Sender:      sender,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// start runs the dispatcher, the reload on SIGHUP and on file changes, and
// a cron tick that wakes the dispatcher every minute besides its own poll.
func (s *sequences) start(ctx context.Context, wg *sync.WaitGroup, c *cron.Cron, log *slog.Logger) {
	wg.Go(func() { s.dispatch.Run(ctx) })
	c.AddFunc("@every 1m", s.dispatch.Wake)
	if s.library == nil {
		return
	}
	s.library.OnChange(func(*campaign.Set) { s.dispatch.Wake() })
	wg.Go(func() {
		if err := s.library.Watch(ctx, log); err != nil {
			log.Error("campaigns: cannot watch for edits; reload with SIGHUP", "err", err)
		}
	})
	wg.Go(func() {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := s.library.Reload(); err != nil {
					log.Error("campaigns: reload rejected; the last good version keeps running\n" + err.Error())
					continue
				}
				log.Info("campaigns: reloaded on SIGHUP", "sequences", len(s.library.Set().Sequences))
			}
		}
	})
}
