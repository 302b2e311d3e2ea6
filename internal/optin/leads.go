package optin

import (
	"context"
	"strconv"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// Purge deletes the leads that never confirmed once both their first signup
// and their last confirmation mail are older than the retention period:
// pending leads, and leads that unsubscribed or bounced before confirming.
// Their suppressions stay.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	now := s.now()
	n, err := s.store.PurgePending(ctx, now.Add(-s.opts.Retention), now)
	if err == nil && n > 0 {
		s.log.Info("optin: purged never-confirmed leads", "count", n)
	}
	return n, err
}

// Detail is a lead with its consent ledger and its tracking consent.
type Detail struct {
	*lead.Lead
	Ledger   []lead.ConsentEvent
	Tracking TrackingState
}

// Lookup finds a lead by id or address.
func (s *Service) Lookup(ctx context.Context, ref string) (*Detail, error) {
	var l *store.LeadRow
	var err error
	// An id is digits only: ParseUint takes no sign.
	if id, perr := strconv.ParseUint(ref, 10, 63); perr == nil {
		l, err = s.store.LeadByID(ctx, int64(id))
	} else {
		email, nerr := lead.NormalizeEmail(ref)
		if nerr != nil {
			return nil, ErrNotFound
		}
		l, err = s.store.LeadByEmail(ctx, email)
	}
	if err != nil {
		return nil, err
	}
	ledger, err := s.store.ConsentLedger(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	tr, err := s.store.LeadTracking(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	return &Detail{Lead: &l.Lead, Ledger: ledger, Tracking: s.trackingState(tr)}, nil
}
