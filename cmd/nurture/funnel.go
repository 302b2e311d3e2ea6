package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/funnel"
	"github.com/nurture/nurture/internal/optin"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
)

// newFunnel is the scoring service of a server: it reads the live
// scoring.yaml, and moves leads to mql through the dispatcher, so that the
// stage's exits and triggers apply, and hands each new MQL to sales.
func newFunnel(st *store.Store, seq *sequences, disp *dispatch.Dispatcher, handoffs funnel.Handoffs, tick, settle time.Duration, log *slog.Logger, now func() time.Time) *funnel.Service {
	return funnel.New(st, log, now, funnel.Config{
		Rules:  seq.scoring,
		Tick:   tick,
		Settle: settle, // a click's burst window
		Stage: func(ctx context.Context, tx *store.Tx, leadID int64, c store.StageChange, now time.Time) error {
			_, err := disp.StageChanged(ctx, tx, leadID, c, now)
			return err
		},
		Handoffs: handoffs,
	})
}

// scoring is the live scoring.yaml, nil without one: what the services
// that read reject reasons, routes, the webhook or the digest take.
func (s *sequences) scoring() *scoring.Rules { return s.campaigns.ScoringRules() }

// confirmed chains the hooks a confirmation runs in its transaction.
func confirmed(hooks ...optin.ConfirmedHook) optin.ConfirmedHook {
	return func(ctx context.Context, tx *store.Tx, leadID int64, now time.Time) error {
		for _, h := range hooks {
			if err := h(ctx, tx, leadID, now); err != nil {
				return err
			}
		}
		return nil
	}
}
