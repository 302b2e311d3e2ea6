package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

// The webhook states of a handoff (handoffs.webhook).
const (
	WebhookNone      = "none"      // no webhook was configured when it was made
	WebhookPending   = "pending"   // a delivery is queued or being retried
	WebhookDelivered = "delivered" // the receiver answered 2xx
	WebhookFailed    = "failed"    // retries ran out
	WebhookGone      = "gone"      // the receiver answered 410: no more deliveries
)

// WebhookSubject is a handoff and its lead as they stand now: what the
// handoff's webhook tells.
type WebhookSubject struct {
	Handoff
	Email          string          `db:"email"`
	FirstName      string          `db:"first_name"`
	LastName       string          `db:"last_name"`
	LeadStatus     lead.Status     `db:"lead_status"`
	Stage          lead.Stage      `db:"stage"`
	Source         string          `db:"source"`
	Attributes     lead.Attributes `db:"attributes"`
	LeadScore      int             `db:"lead_score"`
	LeadFit        int             `db:"lead_fit"`
	LeadEngagement int             `db:"lead_engagement"`
	Temperature    string          `db:"temperature"`
	Tracking       bool            `db:"tracking"`
	ConfirmedAt    *time.Time      `db:"confirmed_at"`
}

// Confirmation is the confirmation in force of a lead: when and through
// which source (the form) and page it confirmed, under which consent
// version.
type Confirmation struct {
	At             time.Time `db:"at"`
	Source         string    `db:"source"`
	SourceURL      string    `db:"source_url"`
	ConsentVersion string    `db:"consent_version"`
}

// WebhookAttempt is one attempt to deliver a handoff's webhook.
type WebhookAttempt struct {
	ID         int64     `db:"id" json:"id"`
	HandoffID  int64     `db:"handoff_id" json:"handoff"`
	At         time.Time `db:"at" json:"at"`
	URL        string    `db:"url" json:"url"`
	Status     int       `db:"status" json:"status"` // the HTTP status; 0 when none came
	Error      string    `db:"error" json:"error,omitempty"`
	DurationMS int       `db:"duration_ms" json:"duration_ms"`
}

// WebhookSubject returns handoff id with its lead; ErrNotFound when there
// is no such handoff.
func (s *Store) WebhookSubject(ctx context.Context, id int64) (*WebhookSubject, error) {
	var w WebhookSubject
	if err := s.q.WebhookSubject.GetContext(ctx, &w, id); err != nil {
		return nil, fmt.Errorf("store: webhook subject: %w", notFound(err))
	}
	return &w, nil
}

// Confirmation returns the lead's confirmation in force; ErrNotFound when
// it never confirmed.
func (s *Store) Confirmation(ctx context.Context, leadID int64) (*Confirmation, error) {
	var c Confirmation
	if err := s.q.WebhookConsent.GetContext(ctx, &c, leadID); err != nil {
		return nil, fmt.Errorf("store: confirmation: %w", notFound(err))
	}
	return &c, nil
}

// RecentActivity returns the lead's last n counted events, newest first.
func (s *Store) RecentActivity(ctx context.Context, leadID int64, n int) ([]Activity, error) {
	var as []Activity
	if err := s.q.WebhookActivity.SelectContext(ctx, &as, leadID, n); err != nil {
		return nil, fmt.Errorf("store: recent activity: %w", err)
	}
	return as, nil
}

// SetWebhook sets the webhook state of handoff id in the transaction.
func (t *Tx) SetWebhook(ctx context.Context, id int64, state string) error {
	var got int64
	if err := t.stmt(t.q.SetHandoffWebhook).GetContext(ctx, &got, id, state); err != nil {
		return fmt.Errorf("store: set webhook state: %w", notFound(err))
	}
	return nil
}

// RecordAttempt writes a delivery attempt and sets the handoff's webhook
// state, together.
func (s *Store) RecordAttempt(ctx context.Context, a WebhookAttempt, state string) error {
	return s.WithTx(ctx, func(t *Tx) error {
		var id int64
		err := t.stmt(t.q.InsertWebhookAttempt).GetContext(ctx, &id,
			a.HandoffID, a.At.UTC().Truncate(time.Microsecond), a.URL, a.Status, a.Error, a.DurationMS)
		if err != nil {
			return fmt.Errorf("store: record webhook attempt: %w", err)
		}
		return t.SetWebhook(ctx, a.HandoffID, state)
	})
}

// WebhookAttempts returns the delivery attempts of handoff id, oldest
// first; ErrNotFound when there is no such handoff.
func (s *Store) WebhookAttempts(ctx context.Context, id int64) ([]WebhookAttempt, error) {
	if _, err := s.WebhookSubject(ctx, id); err != nil {
		return nil, err
	}
	as := []WebhookAttempt{}
	if err := s.q.WebhookAttempts.SelectContext(ctx, &as, id); err != nil {
		return nil, fmt.Errorf("store: webhook attempts: %w", err)
	}
	return as, nil
}

// FirstAttempt is when the first attempt at handoff id's webhook since
// since was made; zero before any.
func (s *Store) FirstAttempt(ctx context.Context, id int64, since time.Time) (time.Time, error) {
	var at *time.Time
	if err := s.q.FirstWebhookAttempt.GetContext(ctx, &at, id, since.UTC()); err != nil {
		return time.Time{}, fmt.Errorf("store: first webhook attempt: %w", err)
	}
	if at == nil {
		return time.Time{}, nil
	}
	return *at, nil
}

// GoneEndpoint is a webhook URL that answered 410 Gone: when, and to
// which handoff's post.
type GoneEndpoint struct {
	URL     string    `db:"url"`
	At      time.Time `db:"gone_at"`
	Handoff int64     `db:"handoff_id"`
}

// EndpointGone returns the 410 mark of url, the webhook URL in force, and
// forgets the marks of every other URL; ErrNotFound when url is not gone.
func (s *Store) EndpointGone(ctx context.Context, url string) (*GoneEndpoint, error) {
	var g GoneEndpoint
	if err := s.q.GoneEndpoint.GetContext(ctx, &g, url); err != nil {
		return nil, fmt.Errorf("store: gone webhook endpoint: %w", notFound(err))
	}
	return &g, nil
}

// RecordGone writes attempt a, whose receiver answered 410 Gone, sets the
// handoff's webhook gone and marks a.URL gone, together. marked is false
// when the URL was marked gone already.
func (s *Store) RecordGone(ctx context.Context, a WebhookAttempt) (marked bool, err error) {
	err = s.WithTx(ctx, func(t *Tx) error {
		var id int64
		err := t.stmt(t.q.InsertWebhookAttempt).GetContext(ctx, &id,
			a.HandoffID, a.At.UTC().Truncate(time.Microsecond), a.URL, a.Status, a.Error, a.DurationMS)
		if err != nil {
			return fmt.Errorf("store: record webhook attempt: %w", err)
		}
		if err := t.SetWebhook(ctx, a.HandoffID, WebhookGone); err != nil {
			return err
		}
		var url string
		err = t.stmt(t.q.MarkEndpointGone).GetContext(ctx, &url, a.URL, a.At.UTC(), a.HandoffID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return fmt.Errorf("store: mark webhook endpoint gone: %w", err)
		}
		marked = true
		return nil
	})
	return marked, err
}

// ClearEndpointGone forgets the 410 mark of url in the transaction, so
// that handoffs are posted to it again.
func (t *Tx) ClearEndpointGone(ctx context.Context, url string) error {
	if _, err := t.stmt(t.q.ClearEndpointGone).ExecContext(ctx, url); err != nil {
		return fmt.Errorf("store: clear gone webhook endpoint: %w", err)
	}
	return nil
}
