package store

import (
	"context"
	"fmt"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

// LeadRow is a lead with the bookkeeping the opt-in needs.
type LeadRow struct {
	lead.Lead
	ConfirmMailedAt *time.Time `db:"confirm_mailed_at"`
}

// LeadForUpdate locks and returns the lead with this normalised address.
func (t *Tx) LeadForUpdate(ctx context.Context, email string) (*LeadRow, error) {
	var l LeadRow
	if err := t.stmt(t.q.LeadForUpdate).GetContext(ctx, &l, email); err != nil {
		return nil, fmt.Errorf("store: lead for update: %w", notFound(err))
	}
	return &l, nil
}

// InsertLead adds a pending lead, with mailedAt as the time its confirmation
// mail is queued (or nil); ErrNotFound means the address exists already.
func (t *Tx) InsertLead(ctx context.Context, s lead.Signup, now time.Time, mailedAt *time.Time) (int64, error) {
	var id int64
	err := t.stmt(t.q.InsertLead).GetContext(ctx, &id, s.Email, s.FirstName, s.LastName, s.Source, s.Attributes, now, mailedAt)
	if err != nil {
		return 0, fmt.Errorf("store: insert lead: %w", notFound(err))
	}
	return id, nil
}

// ConfirmLead confirms lead id with d, what the signup whose link was
// followed said about the person; issued is when that link was issued. It
// reports false, and changes nothing, when the lead was confirmed already
// or unsubscribed or bounced since issued.
func (t *Tx) ConfirmLead(ctx context.Context, id int64, d lead.SignupData, issued, now time.Time) (bool, error) {
	res, err := t.stmt(t.q.ConfirmLead).ExecContext(ctx, id, now, d, issued)
	if err != nil {
		return false, fmt.Errorf("store: confirm lead: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UnsubscribeLead marks the lead unsubscribed, so that no link issued until
// now confirms. It reports false, and changes nothing, when the lead was
// unsubscribed already and no confirmation mail went to it since.
func (t *Tx) UnsubscribeLead(ctx context.Context, id int64, now time.Time) (bool, error) {
	res, err := t.stmt(t.q.UnsubscribeLead).ExecContext(ctx, id, now)
	if err != nil {
		return false, fmt.Errorf("store: unsubscribe lead: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteLead erases a lead with its ledger, tokens and mail, and returns
// its address.
func (t *Tx) DeleteLead(ctx context.Context, id int64) (string, error) {
	var email string
	if err := t.stmt(t.q.DeleteLead).GetContext(ctx, &email, id); err != nil {
		return "", fmt.Errorf("store: delete lead: %w", notFound(err))
	}
	return email, nil
}

// LeadByID returns one lead.
func (s *Store) LeadByID(ctx context.Context, id int64) (*LeadRow, error) {
	var l LeadRow
	if err := s.q.LeadByID.GetContext(ctx, &l, id); err != nil {
		return nil, fmt.Errorf("store: lead %d: %w", id, notFound(err))
	}
	return &l, nil
}

// LeadByEmail returns the lead with this normalised address.
func (s *Store) LeadByEmail(ctx context.Context, email string) (*LeadRow, error) {
	var l LeadRow
	if err := s.q.LeadByEmail.GetContext(ctx, &l, email); err != nil {
		return nil, fmt.Errorf("store: lead by email: %w", notFound(err))
	}
	return &l, nil
}

// PurgePending deletes, in batches, the leads that never confirmed (pending,
// or unsubscribed or bounced before confirming) whose first signup and last
// confirmation mail are both before cutoff. It keeps only anonymous
// per-day, per-source counts, and the suppressions. It returns how many
// leads it deleted.
func (s *Store) PurgePending(ctx context.Context, cutoff, now time.Time) (int64, error) {
	const batch = 1000
	var total int64
	for {
		var n int64
		if err := s.q.PurgePending.GetContext(ctx, &n, cutoff, now.UTC().Format(time.DateOnly), batch); err != nil {
			return total, fmt.Errorf("store: purge pending: %w", err)
		}
		total += n
		if n < batch {
			return total, nil
		}
	}
}
