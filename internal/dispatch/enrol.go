package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// enrol enrols the lead in q, due when q's first step may go out.
func (d *Dispatcher) enrol(ctx context.Context, tx *store.Tx, l *lead.Lead, q *campaign.Sequence, now time.Time) (bool, error) {
	due := now
	if len(q.Steps) > 0 {
		due = d.sendAt(q, q.Steps[0], now, q.Location(l, d.cfg.DefaultZone), now)
	}
	_, ok, err := tx.Enrol(ctx, l.ID, q.ID, q.Reenroll, due, now)
	if ok {
		// Woken before the commit, the dispatcher could find nothing due
		// yet, and sleep through the first step until its next tick.
		tx.AfterCommit(d.Wake)
	}
	return ok, err
}

// enrolIn enrols a lead in every sequence that pick returns for it.
func (d *Dispatcher) enrolIn(ctx context.Context, tx *store.Tx, leadID int64, now time.Time, pick func(*campaign.Set, *lead.Lead) []*campaign.Sequence) (int, error) {
	set := d.set()
	if set == nil {
		return 0, nil
	}
	l, err := tx.Lead(ctx, leadID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, q := range pick(set, &l.Lead) {
		ok, err := d.enrol(ctx, tx, &l.Lead, q, now)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// OnConfirmed enrols a lead that just confirmed in the sequences triggered
// by confirmation (from its signup source). It runs inside the confirming
// transaction: it fits optin.Options.OnConfirmed.
func (d *Dispatcher) OnConfirmed(ctx context.Context, tx *store.Tx, leadID int64, now time.Time) error {
	_, err := d.enrolIn(ctx, tx, leadID, now, func(s *campaign.Set, l *lead.Lead) []*campaign.Sequence {
		return s.OnConfirmed(l.Source)
	})
	return err
}

// OnStage enrols a lead whose stage just changed in the sequences
// triggered by reaching that stage, in the caller's transaction.
func (d *Dispatcher) OnStage(ctx context.Context, tx *store.Tx, leadID int64, stage lead.Stage, now time.Time) error {
	_, err := d.onStage(ctx, tx, leadID, stage, now)
	return err
}

func (d *Dispatcher) onStage(ctx context.Context, tx *store.Tx, leadID int64, stage lead.Stage, now time.Time) (int, error) {
	return d.enrolIn(ctx, tx, leadID, now, func(s *campaign.Set, _ *lead.Lead) []*campaign.Sequence {
		return s.OnStage(stage)
	})
}

// StageChange is what moving a lead to a stage did.
type StageChange struct {
	Lead     int64 `json:"lead"`
	Stage    lead.Stage
	From     lead.Stage
	Enrolled int // in sequences triggered by the stage
	Exited   int // enrolments whose exit names the stage
}

// SetStage moves a lead to a stage of the funnel because the admin API
// says so; see StageChanged for what that does. Setting the stage a lead is
// at already changes nothing. ErrNotFound means no such lead;
// ErrInvalidStage a stage that is not one of lead.Stages.
func (d *Dispatcher) SetStage(ctx context.Context, leadID int64, stage lead.Stage) (StageChange, error) {
	var c StageChange
	err := d.store.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		c, err = d.StageChanged(ctx, tx, leadID, store.StageChange{To: stage, Actor: "api", Reason: "set through the API"}, d.now())
		return err
	})
	return c, err
}

// StageChanged moves a lead to a stage in the caller's transaction,
// recording who did it and why, and, in the same transaction, ends its
// enrolments whose exit the stage meets and enrols it in the sequences that
// reaching the stage triggers. Scoring (a lead becomes an MQL) and sales
// (accept, reject, qualify) move leads through it as the admin API does.
func (d *Dispatcher) StageChanged(ctx context.Context, tx *store.Tx, leadID int64, sc store.StageChange, now time.Time) (StageChange, error) {
	c := StageChange{Lead: leadID, Stage: sc.To}
	if !sc.To.Valid() {
		return c, fmt.Errorf("%w: %q", ErrInvalidStage, sc.To)
	}
	var err error
	c.From, err = tx.SetStage(ctx, leadID, sc, now)
	if err != nil || c.From == sc.To {
		return c, err
	}
	if set := d.set(); set != nil {
		var ids []string
		for _, q := range set.ExitOnStage(sc.To) {
			ids = append(ids, q.ID)
		}
		if c.Exited, err = tx.ExitEnrolments(ctx, leadID, ids, reasonStage+string(sc.To), now); err != nil {
			return c, err
		}
	}
	c.Enrolled, err = d.onStage(ctx, tx, leadID, sc.To, now)
	return c, err
}

// OnEvent enrols a lead in the sequences that an event of type typ, just
// recorded in the caller's transaction, triggers, and returns in how many.
// The engagement service calls it for every new event it records.
func (d *Dispatcher) OnEvent(ctx context.Context, tx *store.Tx, leadID int64, typ string, now time.Time) (int, error) {
	return d.enrolIn(ctx, tx, leadID, now, func(s *campaign.Set, _ *lead.Lead) []*campaign.Sequence {
		return s.OnEvent(typ)
	})
}

// Enrol enrols a lead in a sequence by hand (the admin API). ErrNotFound
// means no such lead or sequence; ErrNotEnrolled that the lead is not
// confirmed or is enrolled already.
func (d *Dispatcher) Enrol(ctx context.Context, sequence string, leadID int64) (lead.Enrolment, error) {
	set := d.set()
	if set == nil || set.Sequence(sequence) == nil {
		return lead.Enrolment{}, ErrNotFound
	}
	q := set.Sequence(sequence)
	now := d.now()
	err := d.store.WithTx(ctx, func(tx *store.Tx) error {
		l, err := tx.Lead(ctx, leadID)
		if err != nil {
			return err
		}
		ok, err := d.enrol(ctx, tx, &l.Lead, q, now)
		if err == nil && !ok {
			err = ErrNotEnrolled
		}
		return err
	})
	if err != nil {
		return lead.Enrolment{}, err
	}
	es, err := d.store.EnrolmentsOf(ctx, leadID)
	if err != nil {
		return lead.Enrolment{}, err
	}
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Sequence == sequence {
			return es[i], nil
		}
	}
	return lead.Enrolment{}, ErrNotFound
}

// OnRecycled enrols a lead that sales just rejected and sent back to stage
// lead in the sequences triggered by recycled, in the caller's
// transaction, and returns in how many.
func (d *Dispatcher) OnRecycled(ctx context.Context, tx *store.Tx, leadID int64, now time.Time) (int, error) {
	return d.enrolIn(ctx, tx, leadID, now, func(s *campaign.Set, _ *lead.Lead) []*campaign.Sequence {
		return s.OnRecycled()
	})
}
