package store

import (
	"context"
	"fmt"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

// NewConsentEvent is a ledger entry to append.
type NewConsentEvent struct {
	LeadID    *int64
	EmailHash []byte
	Kind      lead.EventKind
	MessageID *int64
	lead.Evidence
}

// AppendConsent appends one entry to the consent ledger. Times are kept to
// the millisecond in UTC.
func (t *Tx) AppendConsent(ctx context.Context, e NewConsentEvent) (int64, error) {
	var id int64
	err := t.stmt(t.q.InsertConsentEvent).GetContext(ctx, &id,
		e.LeadID, e.EmailHash, e.Kind, e.At.UTC().Truncate(time.Millisecond), e.IP, e.UserAgent,
		e.ConsentText, e.ConsentVersion, e.Source, e.SourceURL, e.MessageID,
		e.Tracking, e.TrackingText, e.TrackingVersion)
	if err != nil {
		return 0, fmt.Errorf("store: append consent: %w", err)
	}
	return id, nil
}

// ConsentEvent returns one ledger entry.
func (t *Tx) ConsentEvent(ctx context.Context, id int64) (*lead.ConsentEvent, error) {
	var e lead.ConsentEvent
	if err := t.stmt(t.q.ConsentEvent).GetContext(ctx, &e, id); err != nil {
		return nil, fmt.Errorf("store: consent event: %w", notFound(err))
	}
	return &e, nil
}

// LeadConsent is a lead's address and the consent in force: what an
// unsubscribe or erasure of the lead withdraws.
type LeadConsent struct {
	Email          string `db:"email"`
	ConsentText    string `db:"consent_text"`
	ConsentVersion string `db:"consent_version"`
	Source         string `db:"source"`
}

// LeadConsentForUpdate locks lead id and returns its address with the
// consent in force: for a confirmed lead, the one its last confirmation
// confirmed; otherwise the one of its last signup or resend.
func (t *Tx) LeadConsentForUpdate(ctx context.Context, id int64) (*LeadConsent, error) {
	var c LeadConsent
	if err := t.stmt(t.q.LeadConsentForUpdate).GetContext(ctx, &c, id); err != nil {
		return nil, fmt.Errorf("store: lead consent: %w", notFound(err))
	}
	return &c, nil
}

// ConsentLedger returns a lead's ledger, oldest first, with the mail each
// entry caused exactly as it was queued for SMTP, and the Message-ID of the
// mail each entry refers to.
func (s *Store) ConsentLedger(ctx context.Context, leadID int64) ([]lead.ConsentEvent, error) {
	out := []lead.ConsentEvent{}
	if err := s.q.ConsentEventsOfLead.SelectContext(ctx, &out, leadID); err != nil {
		return nil, fmt.Errorf("store: consent ledger: %w", err)
	}
	return out, nil
}

// Suppress adds an address hash to the suppression list.
func (t *Tx) Suppress(ctx context.Context, emailHash []byte, reason string, now time.Time) error {
	if _, err := t.stmt(t.q.InsertSuppression).ExecContext(ctx, emailHash, reason, now); err != nil {
		return fmt.Errorf("store: suppress: %w", err)
	}
	return nil
}

// Unsuppress lifts a suppression after a new, confirmed opt-in.
func (t *Tx) Unsuppress(ctx context.Context, emailHash []byte) error {
	if _, err := t.stmt(t.q.DeleteSuppression).ExecContext(ctx, emailHash); err != nil {
		return fmt.Errorf("store: unsuppress: %w", err)
	}
	return nil
}

// ConfirmToken is a stored confirmation token with its lead's state.
type ConfirmToken struct {
	LeadID        int64     `db:"lead_id"`
	SignupEventID int64     `db:"signup_event_id"`
	CreatedAt     time.Time `db:"created_at"` // when the link was issued
	ExpiresAt     time.Time `db:"expires_at"`
	// Data is what the signup that issued the token said about the person.
	Data            lead.SignupData `db:"lead_data"`
	Status          lead.Status     `db:"status"`
	Email           string          `db:"email"`
	ConfirmMailedAt *time.Time      `db:"confirm_mailed_at"`
	// OptedOutAt is when the lead last unsubscribed or bounced.
	OptedOutAt *time.Time `db:"opted_out_at"`
}

// Revoked reports whether the lead unsubscribed or bounced after the link
// was issued (or at the same instant): such a link never confirms, as
// ConfirmLead enforces too.
func (c *ConfirmToken) Revoked() bool {
	return c.OptedOutAt != nil && !c.CreatedAt.After(*c.OptedOutAt)
}

// Signup is what a signup writes besides the lead itself.
type Signup struct {
	Event NewConsentEvent
	// Mail is the confirmation mail to queue, or nil when none is due.
	Mail *NewMessage
	// TokenHash and Expires describe the confirmation link in Mail, and
	// Data is what confirming that link applies to the lead.
	TokenHash []byte
	Expires   time.Time
	Data      lead.SignupData
}

// ConfirmToken looks a token up by its hash.
func (s *Store) ConfirmToken(ctx context.Context, hash []byte) (*ConfirmToken, error) {
	var c ConfirmToken
	if err := s.q.ConfirmToken.GetContext(ctx, &c, hash); err != nil {
		return nil, fmt.Errorf("store: confirm token: %w", notFound(err))
	}
	return &c, nil
}

// ConfirmTokenForUpdate looks a token up and locks its lead.
func (t *Tx) ConfirmTokenForUpdate(ctx context.Context, hash []byte) (*ConfirmToken, error) {
	var c ConfirmToken
	if err := t.stmt(t.q.ConfirmTokenForUpdate).GetContext(ctx, &c, hash); err != nil {
		return nil, fmt.Errorf("store: confirm token: %w", notFound(err))
	}
	return &c, nil
}
