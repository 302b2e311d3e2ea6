package funnel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
)

// settle finishes a lead's scoring at now: fit worked out again from the
// lead's data (a change is a ledger row), the rows added written, the
// score stored with its decay, and the lead moved to mql when the rule
// first holds.
func (s *Service) settle(ctx context.Context, tx *store.Tx, rules *scoring.Rules, lg *ledger, now time.Time) error {
	l := lg.lead
	types, err := tx.EventTypes(ctx, l.ID)
	if err != nil {
		return err
	}
	facts := scoring.Facts{Lead: &l.Lead, Events: types, Now: now}
	fit, err := rules.FitPoints(facts)
	if err != nil {
		s.log.Warn("funnel: a fit rule failed for a lead; it gives nothing", "lead", l.ID, "err", err)
	}
	for _, e := range fitDelta(lg.entries, fit, l.ID, now) {
		lg.add(e)
	}
	if err := tx.AppendScoreEntries(ctx, lg.added); err != nil {
		return err
	}
	lg.added = nil
	sc := scoring.Score{Fit: fitOf(lg.entries), Engagement: rules.Engagement(lg.engagement(nil), now).Points}
	temp := rules.Temperature(sc.Engagement)
	if err := tx.SaveScore(ctx, l.ID, store.LeadScore{Fit: sc.Fit, Engagement: sc.Engagement, Temperature: string(temp), At: now}); err != nil {
		return err
	}
	l.Fit, l.Engagement, l.Score, l.Temperature, l.ScoreAt = sc.Fit, sc.Engagement, sc.Total(), string(temp), &now
	if l.Stage != lead.StageLead || l.Status != lead.StatusConfirmed {
		return nil // an MQL stays one; sales decides what comes next
	}
	// After a recycle only engagement earned since counts towards the rule.
	fresh := scoring.Score{Fit: sc.Fit, Engagement: rules.Engagement(lg.engagement(l), now).Points}
	ok, why, err := rules.IsMQL(facts, fresh)
	if err != nil {
		s.log.Warn("funnel: the mql rule failed for a lead", "lead", l.ID, "err", err)
	}
	if !ok {
		return nil
	}
	return s.promote(ctx, tx, rules, l, facts, sc, why, now)
}

// promote makes a lead an MQL and opens its handoff to the owner whose
// turn it is in the lead's team.
func (s *Service) promote(ctx context.Context, tx *store.Tx, rules *scoring.Rules, l *store.ScoreLead, facts scoring.Facts, sc scoring.Score, why scoring.Reason, now time.Time) error {
	reason := fmt.Sprintf("mql (line %d): %s", why.Line, why.Note)
	if err := s.stage(ctx, tx, l.ID, store.StageChange{To: lead.StageMQL, Actor: "scoring", Reason: reason}, now); err != nil {
		return err
	}
	l.Stage = lead.StageMQL
	return s.openHandoff(ctx, tx, rules, l, facts, sc, now)
}

// openHandoff opens the handoff of a lead that has just become an MQL, to
// the owner whose turn it is in the lead's team, unless scoring.yaml has
// no handoff section or the lead has a live handoff already.
func (s *Service) openHandoff(ctx context.Context, tx *store.Tx, rules *scoring.Rules, l *store.ScoreLead, facts scoring.Facts, sc scoring.Score, now time.Time) error {
	if rules.Handoff == nil {
		return nil
	}
	team, err := rules.Team(facts, sc)
	if len(team.Owners) == 0 {
		return err
	}
	if err != nil {
		s.log.Warn("funnel: a route's condition failed for a lead; the next route took it", "lead", l.ID, "err", err)
	}
	turn, err := tx.NextTurn(ctx, strings.Join(team.Owners, " "))
	if err != nil {
		return err
	}
	h, err := tx.OpenHandoff(ctx, store.Handoff{LeadID: l.ID, CreatedAt: now, Route: team.Index, Owner: team.Owner(turn),
		Score: sc.Total(), Fit: sc.Fit, Engagement: sc.Engagement})
	if errors.Is(err, store.ErrNotFound) {
		s.log.Warn("funnel: an MQL has a live handoff already; none opened", "lead", l.ID)
		return nil
	}
	if err != nil {
		return err
	}
	s.log.Info("funnel: a lead became an MQL", "lead", l.ID, "handoff", h.ID, "route", team.Index+1, "score", h.Score)
	if s.cfg.Handoffs == nil {
		return nil
	}
	return s.cfg.Handoffs.Opened(ctx, tx, h)
}

// EnsureHandoff opens a handoff for a lead the admin API has just moved to
// stage mql by hand, in the caller's transaction, as if scoring had: its
// team by the routes, with the score as it stands now. A lead with a live
// handoff keeps it; without scoring.yaml, or its handoff section, there is
// none to open.
func (s *Service) EnsureHandoff(ctx context.Context, tx *store.Tx, leadID int64, now time.Time) error {
	rules := s.rules()
	if rules == nil || rules.Handoff == nil {
		return nil
	}
	leads, err := tx.LeadsForScoring(ctx, []int64{leadID})
	if err != nil || len(leads) == 0 {
		return err
	}
	if _, err := tx.LiveHandoffForUpdate(ctx, leadID); !errors.Is(err, store.ErrNotFound) {
		return err // nil: it has one
	}
	l := &leads[0]
	rules.Current(&l.Lead, now)
	types, err := tx.EventTypes(ctx, l.ID)
	if err != nil {
		return err
	}
	sc := scoring.Score{Fit: l.Fit, Engagement: l.Engagement}
	return s.openHandoff(ctx, tx, rules, l, scoring.Facts{Lead: &l.Lead, Events: types, Now: now}, sc, now)
}

func (s *Service) stage(ctx context.Context, tx *store.Tx, leadID int64, c store.StageChange, now time.Time) error {
	if s.cfg.Stage != nil {
		return s.cfg.Stage(ctx, tx, leadID, c, now)
	}
	_, err := tx.SetStage(ctx, leadID, c, now)
	return err
}

// fitKey names a fit rule in the ledger: its rule and condition.
type fitKey struct{ rule, cond string }

// fitDelta returns the ledger rows that bring the fit rows of entries to
// the award: a rule that holds now and did not, or gives other points, is
// a row of the difference; one that no longer holds takes its points back.
func fitDelta(entries []store.ScoreEntry, award scoring.Award, leadID int64, now time.Time) []store.ScoreEntry {
	cur := map[fitKey]int{}
	var order []fitKey
	lines := map[fitKey]int{}
	for _, e := range entries {
		if e.Kind != store.EntryFit {
			continue
		}
		k := fitKey{e.Rule, e.Note}
		if _, ok := cur[k]; !ok {
			order = append(order, k)
		}
		cur[k] += e.Points
		lines[k] = e.Line
	}
	var out []store.ScoreEntry
	holds := map[fitKey]bool{}
	for _, r := range award.Reasons {
		k := fitKey{r.Rule, r.Note}
		holds[k] = true
		if d := r.Points - cur[k]; d != 0 {
			out = append(out, store.ScoreEntry{LeadID: leadID, At: now, Kind: store.EntryFit,
				Rule: r.Rule, Line: r.Line, Signal: r.Signal, Note: r.Note, Points: d})
		}
	}
	for _, k := range order {
		if !holds[k] && cur[k] != 0 {
			out = append(out, store.ScoreEntry{LeadID: leadID, At: now, Kind: store.EntryFit,
				Rule: k.rule, Line: lines[k], Signal: "fit", Ref: "no longer holds", Note: k.cond, Points: -cur[k]})
		}
	}
	return out
}

// fitOf sums the fit rows of a ledger.
func fitOf(entries []store.ScoreEntry) int {
	n := 0
	for _, e := range entries {
		if e.Kind == store.EntryFit {
			n += e.Points
		}
	}
	return n
}
