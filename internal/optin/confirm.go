package optin

import (
	"context"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
)

// ConfirmState is what a confirmation link leads to, without acting on it.
type ConfirmState struct {
	Confirmed bool // the address is confirmed already
}

// CheckConfirm looks a token up for the page that GET shows. It changes
// nothing: link scanners follow every GET.
func (s *Service) CheckConfirm(ctx context.Context, tok string) (ConfirmState, error) {
	t, err := s.store.ConfirmToken(ctx, token.Hash(tok))
	if err != nil {
		return ConfirmState{}, err
	}
	if t.Status == lead.StatusConfirmed {
		return ConfirmState{Confirmed: true}, nil
	}
	if t.Revoked() {
		return ConfirmState{}, ErrRevoked
	}
	if !s.now().Before(t.ExpiresAt) {
		return ConfirmState{}, ErrExpired
	}
	return ConfirmState{}, nil
}

// Confirm confirms the lead behind a token. It is idempotent: a second call
// returns already = true and writes nothing. A link sent before the lead
// last unsubscribed or bounced changes nothing (ErrRevoked).
func (s *Service) Confirm(ctx context.Context, tok string, ev lead.Evidence) (already bool, err error) {
	now := s.now()
	ev.At = now
	err = s.withTx(ctx, func(tx *store.Tx) error {
		t, err := tx.ConfirmTokenForUpdate(ctx, token.Hash(tok))
		if err != nil {
			return err
		}
		if t.Status == lead.StatusConfirmed {
			already = true
			return nil
		}
		// A link sent before the lead unsubscribed or bounced does not undo
		// that; only a new signup's link does.
		if t.Revoked() {
			return ErrRevoked
		}
		if !now.Before(t.ExpiresAt) {
			return ErrExpired
		}
		// The confirmation confirms the consent given at the signup that
		// sent this link, and the lead takes what that signup said.
		signup, err := tx.ConsentEvent(ctx, t.SignupEventID)
		if err != nil {
			return err
		}
		ev.ConsentText, ev.ConsentVersion = signup.ConsentText, signup.ConsentVersion
		ev.Source = signup.Source
		ok, err := tx.ConfirmLead(ctx, t.LeadID, t.Data, t.CreatedAt, now)
		if err != nil {
			return err
		}
		if !ok {
			// The store applies the same rule; under the lead's lock it
			// refuses only what the checks above would have.
			return ErrRevoked
		}
		hash := lead.EmailHash(t.Email)
		if err := tx.Unsuppress(ctx, hash); err != nil {
			return err
		}
		// The entry names the mail whose link was confirmed: signup, mail
		// and confirmation make one chain of proof.
		if _, err := tx.AppendConsent(ctx, store.NewConsentEvent{
			LeadID: &t.LeadID, EmailHash: hash, Kind: lead.EventConfirmation, MessageID: signup.MessageID, Evidence: ev,
		}); err != nil {
			return err
		}
		if s.opts.OnConfirmed != nil {
			return s.opts.OnConfirmed(ctx, tx, t.LeadID, now)
		}
		return nil
	})
	if err == nil && !already {
		s.log.Info("optin: confirmed", "source", ev.Source)
	}
	return already, err
}

// Resend queues a new confirmation mail for the lead behind an expired
// link, unless one went out within the interval. Its result never says
// which. The new link carries what the old one did, and the ledger records
// the resend with the mail; a resend that mails nothing writes nothing. A
// link the lead has unsubscribed or bounced since is not renewed
// (ErrRevoked). Resends count against the address's signup limit
// (ErrRateLimited).
func (s *Service) Resend(ctx context.Context, tok string, ev lead.Evidence) error {
	now := s.now()
	ev.At = now
	return s.withTx(ctx, func(tx *store.Tx) error {
		t, err := tx.ConfirmTokenForUpdate(ctx, token.Hash(tok))
		if err != nil || t.Status == lead.StatusConfirmed {
			return err
		}
		if t.Revoked() {
			return ErrRevoked
		}
		if err := s.allowEmail(t.Email, now); err != nil {
			return err
		}
		l, err := tx.LeadForUpdate(ctx, t.Email)
		if err != nil || !s.mailDue(l, now) {
			return err
		}
		signup, err := tx.ConsentEvent(ctx, t.SignupEventID)
		if err != nil {
			return err
		}
		ev.ConsentText, ev.ConsentVersion, ev.Source = signup.ConsentText, signup.ConsentVersion, signup.Source
		ev.Tracking, ev.TrackingText, ev.TrackingVersion = signup.Tracking, signup.TrackingText, signup.TrackingVersion
		if err := tx.MarkConfirmMailed(ctx, []store.Mailed{{ID: l.ID, At: now}}); err != nil {
			return err
		}
		rec, err := s.signupRecord(l, t.Data, lead.EventResend, ev, true)
		if err != nil {
			return err
		}
		_, err = tx.RecordSignups(ctx, []store.Signup{rec})
		return err
	})
}
