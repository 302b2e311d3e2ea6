package funnel

import (
	"context"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
)

// Explanation is why a lead stands where it does: its ledger, with what
// each engagement row is worth after decay, and its stage changes.
type Explanation struct {
	Lead        store.ScoreLead
	At          time.Time
	Fit         int
	FitRows     []store.ScoreEntry
	Engagement  scoring.Engagement // now, with decay
	Rows        []Worth            // the engagement rows, oldest first
	Temperature scoring.Temperature
	HalfLife    time.Duration
	Stages      []store.StageRow
}

// Worth is an engagement row and what it is worth now.
type Worth struct {
	store.ScoreEntry
	Now float64
}

// Score is the lead's score now: fit plus engagement after decay.
func (e *Explanation) Score() int { return e.Fit + e.Engagement.Points }

// Explain reads a lead's ledger and works out its score at now under the
// current rules. store.ErrNotFound means no lead has the address.
func (s *Service) Explain(ctx context.Context, email string) (*Explanation, error) {
	rules := s.rules()
	if rules == nil {
		return nil, ErrNoRules
	}
	addr, err := lead.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	l, err := s.store.ScoreLead(ctx, addr)
	if err != nil {
		return nil, err
	}
	entries, err := s.store.ScoreEntries(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	stages, err := s.store.StageChanges(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	e := &Explanation{Lead: *l, At: now, HalfLife: rules.HalfLife, Stages: stages}
	var eng []scoring.Entry
	for _, x := range entries {
		if x.Kind == store.EntryFit {
			e.Fit += x.Points
			e.FitRows = append(e.FitRows, x)
			continue
		}
		one := []scoring.Entry{{At: x.At, Points: x.Points}}
		e.Rows = append(e.Rows, Worth{ScoreEntry: x, Now: rules.Engagement(one, now).Exact})
		eng = append(eng, one[0])
	}
	e.Engagement = rules.Engagement(eng, now)
	e.Temperature = rules.Temperature(e.Engagement.Points)
	return e, nil
}
