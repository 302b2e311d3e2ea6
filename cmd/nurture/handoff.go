package main

import (
	"context"
	"time"

	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/handoff"
	"github.com/nurture/nurture/internal/store"
)

// handoffStages moves leads for the handoff through the dispatcher, so a
// decision runs the stage's exits and triggers.
type handoffStages struct{ *dispatch.Dispatcher }

func (s handoffStages) Move(ctx context.Context, tx *store.Tx, leadID int64, sc store.StageChange, now time.Time) (handoff.Moved, error) {
	c, err := s.StageChanged(ctx, tx, leadID, sc, now)
	return handoff.Moved{From: c.From, Enrolled: c.Enrolled}, err
}
