package handoff

import (
	"context"
	"errors"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// Follow keeps a lead's live handoff in step with a stage the admin API
// set by hand, in the caller's transaction: back at lead, the handoff is
// withdrawn (the lead is no longer sales's, and an MQL again gets a
// handoff of its own); at mql an accepted one is open again; at sal an
// open one is accepted, and at sql it is qualified, as if sales had
// decided so. Sales's own decisions go through Decide and the links. The
// caller locks the live handoff before the lead, as Decide does (see
// LockLive).
func (s *Service) Follow(ctx context.Context, tx *store.Tx, leadID int64, to lead.Stage, actor string, now time.Time) error {
	h, err := tx.LiveHandoffForUpdate(ctx, leadID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	status := h.Status
	switch to {
	case lead.StageLead:
		status = store.HandoffWithdrawn
	case lead.StageMQL:
		status = store.HandoffOpen
	case lead.StageSAL:
		status = store.HandoffAccepted
	case lead.StageSQL:
		status = store.HandoffQualified
	}
	if status == h.Status {
		return nil
	}
	if status == store.HandoffOpen {
		err = tx.ReopenHandoff(ctx, h.ID)
	} else {
		err = tx.DecideHandoff(ctx, h.ID, store.Decision{Status: status, Reason: "stage " + string(to) + " set through the API", By: actor}, now)
	}
	if err != nil {
		return err
	}
	s.log.Info("handoff: follows a stage set by hand", "handoff", h.ID, "lead", leadID, "stage", to, "status", status)
	return nil
}

// LockLive locks a lead's live handoff, if it has one, in the caller's
// transaction: a stage move by hand takes it before it moves the lead, in
// the order of a decision of sales, so that the two never deadlock.
func LockLive(ctx context.Context, tx *store.Tx, leadID int64) error {
	if _, err := tx.LiveHandoffForUpdate(ctx, leadID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
