package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/nurture/nurture/internal/lead"
)

// ScoreEvent is an event as scoring reads it. MessageID is 0 and Link -1
// for an event that came from no mail.
type ScoreEvent struct {
	ID        int64     `db:"id"`
	LeadID    int64     `db:"lead_id"`
	Type      string    `db:"type"`
	Source    string    `db:"source"` // pixel, click, api, site, system
	StepKey   string    `db:"step_key"`
	URL       string    `db:"url"`
	MessageID int64     `db:"message_id"`
	Link      int       `db:"link"`
	Verdict   string    `db:"verdict"`
	At        time.Time `db:"at"`
}

// ScoreLead is a lead with its stored score.
type ScoreLead struct {
	lead.Lead
	RecycledAt *time.Time `db:"recycled_at"`
}

// ScoreEntry is a row of the score ledger.
type ScoreEntry struct {
	ID      int64     `db:"id"`
	LeadID  int64     `db:"lead_id"`
	At      time.Time `db:"at"`
	Kind    string    `db:"kind"` // fit or engagement
	Rule    string    `db:"rule"`
	Line    int       `db:"line"`
	Signal  string    `db:"signal"`
	Ref     string    `db:"ref"`
	Note    string    `db:"note"`
	EventID int64     `db:"event_id"` // 0 for none
	Points  int       `db:"points"`
}

// The kinds of ledger rows.
const (
	EntryFit        = "fit"
	EntryEngagement = "engagement"
)

// Engaged is an open (Source pixel, Link -1) or a click that scoring took.
type Engaged struct {
	Source    string `db:"source"`
	MessageID int64  `db:"message_id"`
	Link      int    `db:"link"`
}

// StageRow is a row of the stage ledger.
type StageRow struct {
	At     time.Time  `db:"at"`
	From   lead.Stage `db:"from_stage"`
	To     lead.Stage `db:"to_stage"`
	Actor  string     `db:"actor"`
	Reason string     `db:"reason"`
}

// ClaimUnscored locks up to limit unscored events, skipping those other
// transactions hold; opens and clicks only once they happened before
// settled.
func (t *Tx) ClaimUnscored(ctx context.Context, settled time.Time, limit int) ([]ScoreEvent, error) {
	var out []ScoreEvent
	if err := t.stmt(t.q.ClaimUnscoredEvents).SelectContext(ctx, &out, settled, limit); err != nil {
		return nil, fmt.Errorf("store: claim unscored events: %w", err)
	}
	return out, nil
}

// MarkScored marks events as taken by scoring at now.
func (t *Tx) MarkScored(ctx context.Context, ids []int64, now time.Time) error {
	if _, err := t.stmt(t.q.MarkEventsScored).ExecContext(ctx, pq.Array(ids), now); err != nil {
		return fmt.Errorf("store: mark events scored: %w", err)
	}
	return nil
}

// DeleteGoneEvents deletes the events and facts of those of these leads
// that are gone: events written while their lead was being erased.
func (t *Tx) DeleteGoneEvents(ctx context.Context, leadIDs []int64) error {
	if _, err := t.stmt(t.q.DeleteGoneEvents).ExecContext(ctx, pq.Array(leadIDs)); err != nil {
		return fmt.Errorf("store: delete events of gone leads: %w", err)
	}
	return nil
}

// RecordSystemEvent records an event Nurture itself saw, such as a lead's
// confirmation, with source system and verdict human.
func (t *Tx) RecordSystemEvent(ctx context.Context, leadID int64, typ string, at time.Time) (int64, error) {
	var id int64
	if err := t.stmt(t.q.InsertSystemEvent).GetContext(ctx, &id, leadID, typ, at); err != nil {
		return 0, fmt.Errorf("store: record %s event: %w", typ, err)
	}
	return id, nil
}

// LeadsForScoring locks the leads in id order and returns them.
func (t *Tx) LeadsForScoring(ctx context.Context, ids []int64) ([]ScoreLead, error) {
	var out []ScoreLead
	if err := t.stmt(t.q.LeadsForScoring).SelectContext(ctx, &out, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("store: lock leads for scoring: %w", err)
	}
	return out, nil
}

// ScoreLead returns the lead with this normalised address and its score.
func (s *Store) ScoreLead(ctx context.Context, email string) (*ScoreLead, error) {
	var l ScoreLead
	if err := s.q.ScoreLeadByEmail.GetContext(ctx, &l, email); err != nil {
		return nil, fmt.Errorf("store: lead by email: %w", notFound(err))
	}
	return &l, nil
}

// ScoreEntries returns a lead's ledger, oldest first.
func (t *Tx) ScoreEntries(ctx context.Context, leadID int64) ([]ScoreEntry, error) {
	var out []ScoreEntry
	if err := t.stmt(t.q.ScoreEntriesOfLead).SelectContext(ctx, &out, leadID); err != nil {
		return nil, fmt.Errorf("store: score entries: %w", err)
	}
	return out, nil
}

// ScoreEntries returns a lead's ledger, oldest first.
func (s *Store) ScoreEntries(ctx context.Context, leadID int64) ([]ScoreEntry, error) {
	var out []ScoreEntry
	if err := s.q.ScoreEntriesOfLead.SelectContext(ctx, &out, leadID); err != nil {
		return nil, fmt.Errorf("store: score entries: %w", err)
	}
	return out, nil
}

// AppendScoreEntries adds rows to the ledger.
func (t *Tx) AppendScoreEntries(ctx context.Context, es []ScoreEntry) error {
	if len(es) == 0 {
		return nil
	}
	n := len(es)
	leads, events := make([]int64, n), make([]int64, n)
	ats := make([]time.Time, n)
	kinds, rules, signals, refs, notes := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	lines, points := make([]int64, n), make([]int64, n)
	for i, e := range es {
		leads[i], events[i], ats[i] = e.LeadID, e.EventID, e.At
		kinds[i], rules[i], signals[i], refs[i], notes[i] = e.Kind, e.Rule, e.Signal, e.Ref, e.Note
		lines[i], points[i] = int64(e.Line), int64(e.Points)
	}
	_, err := t.stmt(t.q.InsertScoreEntries).ExecContext(ctx, pq.Array(leads), pq.Array(ats), pq.Array(kinds), pq.Array(rules),
		pq.Array(lines), pq.Array(signals), pq.Array(refs), pq.Array(notes), pq.Array(events), pq.Array(points))
	if err != nil {
		return fmt.Errorf("store: append score entries: %w", err)
	}
	return nil
}

// DeleteScoreEntries empties a lead's ledger, for a replay that writes it
// anew.
func (t *Tx) DeleteScoreEntries(ctx context.Context, leadID int64) error {
	if _, err := t.stmt(t.q.DeleteScoreEntries).ExecContext(ctx, leadID); err != nil {
		return fmt.Errorf("store: delete score entries: %w", err)
	}
	return nil
}

// LeadScore is what a lead's stored score says.
type LeadScore struct {
	Fit, Engagement int
	Temperature     string
	At              time.Time
}

// SaveScore stores a lead's score (fit + engagement) as of sc.At.
func (t *Tx) SaveScore(ctx context.Context, leadID int64, sc LeadScore) error {
	_, err := t.stmt(t.q.SaveLeadScore).ExecContext(ctx, leadID, sc.Fit, sc.Engagement, sc.Fit+sc.Engagement, sc.Temperature, sc.At)
	if err != nil {
		return fmt.Errorf("store: save score of lead %d: %w", leadID, err)
	}
	return nil
}

// EventTypes returns the types of a lead's counted API and website events.
func (t *Tx) EventTypes(ctx context.Context, leadID int64) ([]string, error) {
	var out []string
	if err := t.stmt(t.q.LeadEventTypes).SelectContext(ctx, &out, leadID); err != nil {
		return nil, fmt.Errorf("store: event types: %w", err)
	}
	return out, nil
}

// EngagedMail returns the counted opens and clicks scoring took of a lead
// in these mails.
func (t *Tx) EngagedMail(ctx context.Context, leadID int64, messages []int64) ([]Engaged, error) {
	if len(messages) == 0 {
		return nil, nil
	}
	var out []Engaged
	if err := t.stmt(t.q.EngagedMail).SelectContext(ctx, &out, leadID, pq.Array(messages)); err != nil {
		return nil, fmt.Errorf("store: engaged mail: %w", err)
	}
	return out, nil
}

// ScoredEvents returns every event of a lead that scoring took, by time.
func (t *Tx) ScoredEvents(ctx context.Context, leadID int64) ([]ScoreEvent, error) {
	var out []ScoreEvent
	if err := t.stmt(t.q.ScoredEventsOfLead).SelectContext(ctx, &out, leadID); err != nil {
		return nil, fmt.Errorf("store: scored events: %w", err)
	}
	return out, nil
}

// StaleScores locks up to limit leads whose score is older than before,
// skipping those other transactions hold.
func (t *Tx) StaleScores(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	var out []int64
	if err := t.stmt(t.q.StaleScores).SelectContext(ctx, &out, before, limit); err != nil {
		return nil, fmt.Errorf("store: stale scores: %w", err)
	}
	return out, nil
}

// LeadIDsAfter returns up to limit lead ids above after, in order.
func (s *Store) LeadIDsAfter(ctx context.Context, after int64, limit int) ([]int64, error) {
	var out []int64
	if err := s.q.LeadIDsAfter.SelectContext(ctx, &out, after, limit); err != nil {
		return nil, fmt.Errorf("store: lead ids: %w", err)
	}
	return out, nil
}

// NextTurn counts a route's turns up by one and returns the new count,
// from 0. Concurrent callers of one route take turns on its row.
func (t *Tx) NextTurn(ctx context.Context, route string) (int64, error) {
	var n int64
	if err := t.stmt(t.q.NextRouteTurn).GetContext(ctx, &n, route); err != nil {
		return 0, fmt.Errorf("store: next turn: %w", err)
	}
	return n, nil
}

// OpenHandoff inserts an open handoff of h.LeadID to h.Owner. ErrNotFound
// means the lead has a live handoff already, and nothing was written.
func (t *Tx) OpenHandoff(ctx context.Context, h Handoff) (Handoff, error) {
	var out Handoff
	err := t.stmt(t.q.InsertHandoff).GetContext(ctx, &out, h.LeadID, h.CreatedAt, h.Route, h.Owner, h.Score, h.Fit, h.Engagement)
	if err != nil {
		return Handoff{}, fmt.Errorf("store: open handoff: %w", notFound(err))
	}
	return out, nil
}

// StageChanges returns a lead's stage ledger, oldest first.
func (s *Store) StageChanges(ctx context.Context, leadID int64) ([]StageRow, error) {
	var out []StageRow
	if err := s.q.StageChangesOfLead.SelectContext(ctx, &out, leadID); err != nil {
		return nil, fmt.Errorf("store: stage changes: %w", err)
	}
	return out, nil
}
