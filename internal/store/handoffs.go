package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

// Handoff is one time a lead entered MQL, given to one owner in sales: a
// row of handoffs.
type Handoff struct {
	ID         int64      `db:"id" json:"id"`
	LeadID     int64      `db:"lead_id" json:"lead"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	Route      int        `db:"route" json:"route"` // index of the handoff.routes entry
	Owner      string     `db:"owner" json:"owner"`
	Status     string     `db:"status" json:"status"` // open, accepted, rejected, qualified, withdrawn
	Reason     string     `db:"reason" json:"reason,omitempty"`
	Score      int        `db:"score" json:"score"`
	Fit        int        `db:"fit" json:"fit"`
	Engagement int        `db:"engagement" json:"engagement"`
	DecidedAt  *time.Time `db:"decided_at" json:"decided_at,omitempty"`
	DecidedBy  string     `db:"decided_by" json:"decided_by,omitempty"`
	Webhook    string     `db:"webhook" json:"webhook"` // none, pending, delivered, failed, gone
}

// The statuses of a handoff.
const (
	HandoffOpen      = "open"
	HandoffAccepted  = "accepted"
	HandoffRejected  = "rejected"
	HandoffQualified = "qualified"
	HandoffWithdrawn = "withdrawn" // its lead moved back to stage lead by the admin API
)

// HandoffLead is a handoff with what sales sees of its lead.
type HandoffLead struct {
	Handoff
	Email           string          `db:"email"`
	FirstName       string          `db:"first_name"`
	LastName        string          `db:"last_name"`
	Stage           lead.Stage      `db:"stage"`
	Attributes      lead.Attributes `db:"attributes"`
	WebhookAttempts int             `db:"webhook_attempts"`
}

// HandoffFilter picks handoffs; an empty field picks any.
type HandoffFilter struct {
	Owner  string
	Status string
	Limit  int // default 500
}

// Handoffs returns the handoffs the filter picks, newest first.
func (s *Store) Handoffs(ctx context.Context, f HandoffFilter) ([]HandoffLead, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	out := []HandoffLead{}
	if err := s.q.ListHandoffs.SelectContext(ctx, &out, f.Owner, f.Status, f.Limit); err != nil {
		return nil, fmt.Errorf("store: handoffs: %w", err)
	}
	return out, nil
}

// Handoffs is Store.Handoffs in the transaction.
func (t *Tx) Handoffs(ctx context.Context, f HandoffFilter) ([]HandoffLead, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	out := []HandoffLead{}
	if err := t.stmt(t.q.ListHandoffs).SelectContext(ctx, &out, f.Owner, f.Status, f.Limit); err != nil {
		return nil, fmt.Errorf("store: handoffs: %w", err)
	}
	return out, nil
}

// HandoffLead returns one handoff with its lead; ErrNotFound when there
// is none.
func (s *Store) HandoffLead(ctx context.Context, id int64) (*HandoffLead, error) {
	var h HandoffLead
	if err := s.q.HandoffByID.GetContext(ctx, &h, id); err != nil {
		return nil, fmt.Errorf("store: handoff %d: %w", id, notFound(err))
	}
	return &h, nil
}

// HandoffForUpdate locks and returns a handoff; ErrNotFound when there is
// none.
func (t *Tx) HandoffForUpdate(ctx context.Context, id int64) (*Handoff, error) {
	var h Handoff
	if err := t.stmt(t.q.HandoffForUpdate).GetContext(ctx, &h, id); err != nil {
		return nil, fmt.Errorf("store: handoff %d: %w", id, notFound(err))
	}
	return &h, nil
}

// LiveHandoffForUpdate locks and returns the lead's open or accepted
// handoff; ErrNotFound when it has none.
func (t *Tx) LiveHandoffForUpdate(ctx context.Context, leadID int64) (*Handoff, error) {
	var h Handoff
	if err := t.stmt(t.q.LiveHandoffForUpdate).GetContext(ctx, &h, leadID); err != nil {
		return nil, fmt.Errorf("store: live handoff of lead %d: %w", leadID, notFound(err))
	}
	return &h, nil
}

// Decision is what sales decided of a handoff.
type Decision struct {
	Status string // accepted, rejected, qualified or withdrawn (or open again)
	Reason string // a rejection's
	By     string // the owner's address, or "api"
}

// DecideHandoff records a decision on a handoff at now.
func (t *Tx) DecideHandoff(ctx context.Context, id int64, d Decision, now time.Time) error {
	if _, err := t.stmt(t.q.DecideHandoff).ExecContext(ctx, id, d.Status, d.Reason, d.By, now); err != nil {
		return fmt.Errorf("store: decide handoff %d: %w", id, err)
	}
	return nil
}

// ReopenHandoff makes a decided handoff open and undecided again.
func (t *Tx) ReopenHandoff(ctx context.Context, id int64) error {
	if _, err := t.stmt(t.q.ReopenHandoff).ExecContext(ctx, id); err != nil {
		return fmt.Errorf("store: reopen handoff %d: %w", id, err)
	}
	return nil
}

// RecycleLead marks a lead sent back by sales at now (leads.recycled_at).
func (t *Tx) RecycleLead(ctx context.Context, leadID int64, now time.Time) error {
	if _, err := t.stmt(t.q.RecycleLead).ExecContext(ctx, leadID, now); err != nil {
		return fmt.Errorf("store: recycle lead %d: %w", leadID, err)
	}
	return nil
}

// ClaimDigestSlot takes the digest of slot for this sender, with mails
// owners' mails, and reports whether it was free. Its row commits with the
// mails, so each slot's digest goes out once across nodes and restarts.
func (t *Tx) ClaimDigestSlot(ctx context.Context, slot time.Time, mails int, now time.Time) (bool, error) {
	var got time.Time
	err := t.stmt(t.q.ClaimDigestSlot).GetContext(ctx, &got, slot, now, mails)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: claim digest slot: %w", err)
	}
	return true, nil
}

// LastDigestSlot returns the latest digest slot sent, or nil.
func (s *Store) LastDigestSlot(ctx context.Context) (*time.Time, error) {
	var at *time.Time
	if err := s.q.LastDigestSlot.GetContext(ctx, &at); err != nil {
		return nil, fmt.Errorf("store: last digest slot: %w", err)
	}
	return at, nil
}
