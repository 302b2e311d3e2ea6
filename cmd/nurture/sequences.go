package main

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/store"
)

// sequences are the live campaign files of a server: loaded at start,
// reloaded on SIGHUP and on edits.
type sequences struct {
	campaigns *campaign.Live
}

func (s *sequences) set() *campaign.Set { return s.campaigns.Set() }

// changes fires when the campaigns changed, so the dispatcher built over
// them looks at once.
func (s *sequences) changes() <-chan struct{} { return s.campaigns.Changes() }

// wireSequences loads the campaigns. Campaign files with errors stop the
// start, naming path:line; a missing folder only warns, since a server may
// run the opt-in alone.
func wireSequences(st *store.Store, cfg *config.Config, tpl fs.FS, log *slog.Logger, now func() time.Time) (*sequences, error) {
	live := campaign.LiveConfig{Dir: cfg.Campaigns, Templates: tpl, Vet: registerConsents(st, now), Log: log}
	if cfg.Templates != "" {
		live.Also = []string{cfg.Templates} // the layouts the campaigns use
	}
	lib, err := campaign.OpenLive(live)
	if err != nil {
		return nil, err
	}
	set := lib.Set()
	if cfg.PrivacyURL == "" && len(set.Forms) > 0 {
		log.Warn("NURTURE_PRIVACY_URL is not set: the signup forms and the mails link to no privacy policy, though consent texts usually refer to one")
	}
	if cfg.PostalAddress == "" && len(set.Sequences) > 0 {
		log.Warn("NURTURE_POSTAL_ADDRESS is not set: sequence mails go out without the sender's postal address, which commercial mail must carry")
	}
	if cfg.Fast {
		log.Warn("demo mode (--fast): a day of delay takes ten seconds, send windows are ignored", "scan_window", cfg.ScanWindow)
	}
	return &sequences{campaigns: lib}, nil
}

// start runs the campaign files' reloads on SIGHUP and on edits, and
// returns once edits are watched. SIGHUP is
// taken from here on, even while the campaigns folder is missing, so that
// it never ends the server.
func (s *sequences) start(ctx context.Context, wg *sync.WaitGroup) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	wg.Go(func() {
		defer signal.Stop(hup)
		s.campaigns.Run(ctx, hup)
	})
	// From here on an edit of the files reloads them.
	<-s.campaigns.Started()
}
