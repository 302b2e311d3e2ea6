package main

import (
	"context"
	"time"

	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/funnel"
	"github.com/nurture/nurture/internal/handoff"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// handoffStages moves leads for the handoff through the dispatcher, so a
// decision runs the stage's exits and triggers.
type handoffStages struct{ *dispatch.Dispatcher }

func (s handoffStages) Move(ctx context.Context, tx *store.Tx, leadID int64, sc store.StageChange, now time.Time) (handoff.Moved, error) {
	c, err := s.StageChanged(ctx, tx, leadID, sc, now)
	return handoff.Moved{From: c.From, Enrolled: c.Enrolled}, err
}

// stageAPI is the sequence engine as the admin API uses it, whose stage
// moves by hand keep the handoff in step, in the move's transaction: a
// lead set to mql gets a handoff as if scoring had made it one, the
// lead's live handoff follows a move to another stage (handoff.Follow),
// and a lead set back to lead counts only the engagement it earns from
// then on towards the mql rule.
type stageAPI struct {
	*dispatch.Dispatcher
	store   *store.Store
	funnel  *funnel.Service
	handoff *handoff.Service
	now     func() time.Time
}

func (s stageAPI) SetStage(ctx context.Context, leadID int64, stage lead.Stage) (dispatch.StageChange, error) {
	var c dispatch.StageChange
	err := s.store.WithTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		if err := handoff.LockLive(ctx, tx, leadID); err != nil {
			return err
		}
		var err error
		c, err = s.StageChanged(ctx, tx, leadID, store.StageChange{To: stage, Actor: "api", Reason: "set through the API"}, now)
		if err != nil || c.From == stage {
			return err
		}
		if err := s.handoff.Follow(ctx, tx, leadID, stage, "api", now); err != nil {
			return err
		}
		if stage == lead.StageLead {
			// Back at lead, it becomes an MQL again only on engagement
			// earned from now on, as after a rejection (without the
			// recycled trigger, which a rejection alone fires).
			return tx.RecycleLead(ctx, leadID, now)
		}
		if stage == lead.StageMQL {
			return s.funnel.EnsureHandoff(ctx, tx, leadID, now)
		}
		return nil
	})
	return c, err
}
