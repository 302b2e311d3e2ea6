package store

import (
	"context"
	"fmt"
	"time"
)

// ReportFilter picks the mails a report covers: those of one sequence
// (empty: every sequence) delivered at or after Since (zero: ever).
type ReportFilter struct {
	Sequence string
	Since    time.Time
}

// StepEngagement is what one step's mails drew: raw counts take every
// recorded open and click; counted ones only verdicts human and
// image_proxy, and OpensCounted adds one open for each mail clicked with
// no counted open of its own. Openers and Clickers are leads, counted.
type StepEngagement struct {
	StepKey       string `db:"step_key"`
	Sent          int64  `db:"sent"`
	Opens         int64  `db:"opens"`
	OpensCounted  int64  `db:"opens_counted"`
	Clicks        int64  `db:"clicks"` // the honeypot's hits included
	ClicksCounted int64  `db:"clicks_counted"`
	Openers       int64  `db:"openers"`
	Clickers      int64  `db:"clickers"`
	// The raw opens and clicks by verdict.
	Human      int64 `db:"human"`
	ImageProxy int64 `db:"image_proxy"`
	AppleMPP   int64 `db:"apple_mpp"`
	Scanner    int64 `db:"scanner"`
	Prefetch   int64 `db:"prefetch"`
}

// LinkEngagement is the clicks of one link of a step's mails, raw and
// counted; the honeypot's hits have Honeypot set and no URL.
type LinkEngagement struct {
	StepKey       string `db:"step_key"`
	Honeypot      bool   `db:"honeypot"`
	URL           string `db:"url"`
	Text          string `db:"text"`
	Clicks        int64  `db:"clicks"`
	ClicksCounted int64  `db:"clicks_counted"`
}

// EngagementSteps returns the engagement of each step whose mails the
// filter picks, by step key.
func (s *Store) EngagementSteps(ctx context.Context, f ReportFilter) ([]StepEngagement, error) {
	out := []StepEngagement{}
	if err := s.q.EngagementSteps.SelectContext(ctx, &out, f.Sequence, since(f.Since)); err != nil {
		return nil, fmt.Errorf("store: engagement of steps: %w", err)
	}
	return out, nil
}

// EngagementLinks returns the clicks of each link of the mails the filter
// picks, by step key, the most counted first.
func (s *Store) EngagementLinks(ctx context.Context, f ReportFilter) ([]LinkEngagement, error) {
	out := []LinkEngagement{}
	if err := s.q.EngagementLinks.SelectContext(ctx, &out, f.Sequence, since(f.Since)); err != nil {
		return nil, fmt.Errorf("store: engagement of links: %w", err)
	}
	return out, nil
}

// since is a report's lower bound as SQL takes it: NULL for none.
func since(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
