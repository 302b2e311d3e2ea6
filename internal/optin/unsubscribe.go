package optin

import (
	"context"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// CheckUnsubscribe returns the address an unsubscribe link is for.
func (s *Service) CheckUnsubscribe(ctx context.Context, tok string) (string, error) {
	id, err := s.links.VerifyUnsubscribe(tok)
	if err != nil {
		return "", ErrNotFound
	}
	l, err := s.store.LeadByID(ctx, id)
	if err != nil {
		return "", err
	}
	return l.Email, nil
}

// Unsubscribe unsubscribes the lead behind a signed token and suppresses its
// address. It is idempotent: a call is written to the ledger, naming the
// consent it withdraws, when it changed something (the lead was not
// unsubscribed, or a confirmation mail went to it since it was); a repeated
// click writes nothing more.
func (s *Service) Unsubscribe(ctx context.Context, tok string, ev lead.Evidence) error {
	id, err := s.links.VerifyUnsubscribe(tok)
	if err != nil {
		return ErrNotFound
	}
	now := s.now()
	ev.At = now
	return s.withTx(ctx, func(tx *store.Tx) error {
		c, err := tx.LeadConsentForUpdate(ctx, id)
		if err != nil {
			return err
		}
		changed, err := tx.UnsubscribeLead(ctx, id, now)
		if err != nil {
			return err
		}
		hash := lead.EmailHash(c.Email)
		if err := tx.Suppress(ctx, hash, "unsubscribe", now); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		ev.ConsentText, ev.ConsentVersion, ev.Source = c.ConsentText, c.ConsentVersion, c.Source
		_, err = tx.AppendConsent(ctx, store.NewConsentEvent{
			LeadID: &id, EmailHash: hash, Kind: lead.EventUnsubscribe, Evidence: ev,
		})
		return err
	})
}

// Erase deletes a lead with everything known about it (GDPR Art. 17). What
// remains is the address's hash on the suppression list, so it is never
// mailed again, and a ledger entry that proves the erasure and names the
// consent it withdrew.
func (s *Service) Erase(ctx context.Context, id int64, ev lead.Evidence) error {
	now := s.now()
	ev.At = now
	return s.withTx(ctx, func(tx *store.Tx) error {
		c, err := tx.LeadConsentForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if _, err := tx.DeleteLead(ctx, id); err != nil {
			return err
		}
		hash := lead.EmailHash(c.Email)
		if err := tx.Suppress(ctx, hash, "erasure", now); err != nil {
			return err
		}
		ev.ConsentText, ev.ConsentVersion, ev.Source = c.ConsentText, c.ConsentVersion, c.Source
		_, err = tx.AppendConsent(ctx, store.NewConsentEvent{EmailHash: hash, Kind: lead.EventErasure, Evidence: ev})
		return err
	})
}
