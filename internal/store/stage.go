package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/nurture/nurture/internal/lead"
)

// StageChange names who moves a lead to another stage and why: what
// stage_changes records.
type StageChange struct {
	To     lead.Stage
	Actor  string // "scoring", "api", or the address of the person in sales
	Reason string
}

// SetStage moves a lead to a stage of the funnel at now, records the change
// in the stage ledger, and returns the stage the lead had; setting the stage
// it has changes and records nothing. ErrNotFound means there is no such
// lead.
func (t *Tx) SetStage(ctx context.Context, leadID int64, c StageChange, now time.Time) (lead.Stage, error) {
	var old lead.Stage
	if err := t.stmt(t.q.SetLeadStage).GetContext(ctx, &old, leadID, c.To, now, c.Actor, c.Reason); err != nil {
		return "", fmt.Errorf("store: set stage of lead %d: %w", leadID, notFound(err))
	}
	return old, nil
}

// ExitEnrolments ends the lead's active enrolments in these sequences as
// exited at now, for reason, and returns how many it ended.
func (t *Tx) ExitEnrolments(ctx context.Context, leadID int64, sequences []string, reason string, now time.Time) (int, error) {
	if len(sequences) == 0 {
		return 0, nil
	}
	res, err := t.stmt(t.q.ExitEnrolments).ExecContext(ctx, leadID, pq.Array(sequences), now, reason)
	if err != nil {
		return 0, fmt.Errorf("store: exit enrolments: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
