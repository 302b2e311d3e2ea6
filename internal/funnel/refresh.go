package funnel

import (
	"context"
	"errors"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
)

// ErrNoRules means the campaigns folder has no scoring.yaml.
var ErrNoRules = errors.New("funnel: no scoring rules: the campaigns folder has no scoring.yaml")

// Refresh stores again, with the decay up to now, the score of every lead
// whose stored score is older than Config.Stale, and moves those for whom
// the mql rule now holds (a negative signal fading, say). It returns how
// many leads it refreshed. Several nodes may run it at once; each takes
// other leads.
func (s *Service) Refresh(ctx context.Context) (int, error) {
	rules := s.rules()
	if rules == nil {
		return 0, nil
	}
	total := 0
	for {
		now := s.now()
		var n int
		err := s.store.WithTx(ctx, func(tx *store.Tx) error {
			ids, err := tx.StaleScores(ctx, now.Add(-s.cfg.Stale), s.cfg.Batch)
			if err != nil || len(ids) == 0 {
				return err
			}
			n = len(ids)
			leads, err := tx.LeadsForScoring(ctx, ids)
			if err != nil {
				return err
			}
			for i := range leads {
				lg := newLedger(&leads[i])
				if lg.entries, err = tx.ScoreEntries(ctx, leads[i].ID); err != nil {
					return err
				}
				if err := s.settle(ctx, tx, rules, lg, now); err != nil {
					return err
				}
			}
			return nil
		})
		total += n
		if err != nil || n < s.cfg.Batch {
			return total, err
		}
	}
}

// Recomputed is what a recompute did.
type Recomputed struct {
	Leads   int // leads replayed
	Changed int // leads whose ledger changed
	MQLs    int // leads that became MQLs
}

// Recompute replays every lead's scored events under the current rules,
// one lead per transaction: the engagement rows are written anew where the
// replay gives other ones, fit is worked out again, and the score stored.
// Run again, it changes nothing. A lead that is an MQL, or further, stays
// one; a lead for whom the mql rule now holds becomes one.
func (s *Service) Recompute(ctx context.Context) (Recomputed, error) {
	var r Recomputed
	rules := s.rules()
	if rules == nil {
		return r, ErrNoRules
	}
	var after int64
	for {
		ids, err := s.store.LeadIDsAfter(ctx, after, s.cfg.Batch)
		if err != nil || len(ids) == 0 {
			return r, err
		}
		for _, id := range ids {
			changed, promoted, err := s.recompute(ctx, rules, id)
			if err != nil {
				return r, err
			}
			r.Leads++
			if changed {
				r.Changed++
			}
			if promoted {
				r.MQLs++
			}
		}
		after = ids[len(ids)-1]
	}
}

func (s *Service) recompute(ctx context.Context, rules *scoring.Rules, id int64) (changed, promoted bool, err error) {
	now := s.now()
	err = s.store.WithTx(ctx, func(tx *store.Tx) error {
		leads, err := tx.LeadsForScoring(ctx, []int64{id})
		if err != nil || len(leads) == 0 {
			return err // a lead erased meanwhile
		}
		l := &leads[0]
		was := l.Stage
		old, err := tx.ScoreEntries(ctx, id)
		if err != nil {
			return err
		}
		evs, err := tx.ScoredEvents(ctx, id)
		if err != nil {
			return err
		}
		lg := newLedger(l)
		for _, ev := range evs {
			lg.apply(rules, ev)
		}
		if sameEngagement(old, lg.entries) {
			lg.entries, lg.added = old, nil
		} else {
			changed = true
			if err := tx.DeleteScoreEntries(ctx, id); err != nil {
				return err
			}
		}
		before := len(lg.entries)
		if err := s.settle(ctx, tx, rules, lg, now); err != nil {
			return err
		}
		changed = changed || len(lg.entries) != before
		promoted = was == lead.StageLead && l.Stage == lead.StageMQL
		return nil
	})
	return changed, promoted, err
}

// sameEngagement reports whether the engagement rows of a ledger are those
// of a replay.
func sameEngagement(ledger, replay []store.ScoreEntry) bool {
	var a []store.ScoreEntry
	for _, e := range ledger {
		if e.Kind == store.EntryEngagement {
			a = append(a, e)
		}
	}
	if len(a) != len(replay) {
		return false
	}
	for i, e := range a {
		r := replay[i]
		if !e.At.Equal(r.At) || e.EventID != r.EventID || e.Rule != r.Rule || e.Line != r.Line ||
			e.Signal != r.Signal || e.Ref != r.Ref || e.Note != r.Note || e.Points != r.Points {
			return false
		}
	}
	return true
}
