package store

import (
	"context"
	"fmt"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

// LeadTracking is a lead's consent to open and click tracking: whether it
// agreed (leads.tracking), and the words of the agreement in force, from
// its last grant or the signup it confirmed ("" when it never agreed).
type LeadTracking struct {
	ID              int64       `db:"id"`
	Email           string      `db:"email"`
	Status          lead.Status `db:"status"`
	Source          string      `db:"source"`
	Tracking        bool        `db:"tracking"`
	TrackingText    string      `db:"tracking_text"`
	TrackingVersion string      `db:"tracking_version"`
}

// LeadTracking returns lead id's tracking consent.
func (s *Store) LeadTracking(ctx context.Context, id int64) (*LeadTracking, error) {
	var l LeadTracking
	if err := s.q.LeadTracking.GetContext(ctx, &l, id); err != nil {
		return nil, fmt.Errorf("store: lead tracking: %w", notFound(err))
	}
	return &l, nil
}

// LeadTrackingForUpdate locks lead id and returns its tracking consent,
// read once the lock is held.
func (t *Tx) LeadTrackingForUpdate(ctx context.Context, id int64) (*LeadTracking, error) {
	var locked int64
	if err := t.stmt(t.q.LockLead).GetContext(ctx, &locked, id); err != nil {
		return nil, fmt.Errorf("store: lock lead: %w", notFound(err))
	}
	var l LeadTracking
	if err := t.stmt(t.q.LeadTracking).GetContext(ctx, &l, id); err != nil {
		return nil, fmt.Errorf("store: lead tracking: %w", notFound(err))
	}
	return &l, nil
}

// SetLeadTracking sets lead id's consent to tracking. It reports false, and
// changes nothing, when it was so already.
func (t *Tx) SetLeadTracking(ctx context.Context, id int64, on bool, now time.Time) (bool, error) {
	res, err := t.stmt(t.q.SetLeadTracking).ExecContext(ctx, id, on, now)
	if err != nil {
		return false, fmt.Errorf("store: set lead tracking: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
