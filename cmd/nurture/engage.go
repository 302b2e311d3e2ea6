package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/engage"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// wireEngage builds the service that records opens, clicks and events,
// with the shipped scanner networks and the operator's Apple egress ranges;
// recorded is called after each commit that wrote events.
func wireEngage(st *store.Store, cfg *config.Config, disp *dispatch.Dispatcher, recorded func(), log *slog.Logger, now func() time.Time) (*engage.Service, error) {
	judge := tracking.Judge{Scanners: tracking.DefaultScanners(), ScanWindow: cfg.ScanWindow, BurstWindow: cfg.BurstWindow}
	if cfg.AppleEgressFile != "" {
		f, err := os.Open(cfg.AppleEgressFile)
		if err != nil {
			return nil, fmt.Errorf("NURTURE_APPLE_EGRESS_FILE: %w", err)
		}
		defer f.Close()
		if judge.Apple, err = tracking.ParseAppleEgress(f); err != nil {
			return nil, fmt.Errorf("NURTURE_APPLE_EGRESS_FILE: %s: %w", cfg.AppleEgressFile, err)
		}
	}
	return engage.New(st, engage.Config{
		Signer:    tracking.NewSigner(cfg.Secret),
		Judge:     judge,
		Tracking:  cfg.Tracking,
		SiteHosts: cfg.SiteHosts,
		OnEvent:   disp.OnEvent,
		Recorded:  recorded, // scoring takes the new events at once
		Now:       now,
		Log:       log,
	})
}
