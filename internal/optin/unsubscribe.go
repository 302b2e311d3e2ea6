package optin

import (
	"context"
	"time"

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
	return s.withdraw(ctx, id, lead.EventUnsubscribe, ev, func(tx *store.Tx, now time.Time) (bool, bool, error) {
		changed, err := tx.UnsubscribeLead(ctx, id, now)
		return changed, true, err
	})
}

// Erase deletes a lead with everything known about it (GDPR Art. 17). What
// remains is the address's hash on the suppression list, so it is never
// mailed again, and a ledger entry that proves the erasure and names the
// consent it withdrew.
func (s *Service) Erase(ctx context.Context, id int64, ev lead.Evidence) error {
	return s.withdraw(ctx, id, lead.EventErasure, ev, func(tx *store.Tx, now time.Time) (bool, bool, error) {
		_, err := tx.DeleteLead(ctx, id)
		return true, false, err
	})
}

// withdraw ends the consent of lead id in one transaction: it locks the
// lead with the consent in force, runs end (which unsubscribes or deletes
// it), puts the address on the suppression list for kind and, when end
// changed something, appends a ledger entry of kind that names the consent
// withdrawn; keep says the entry still names the lead, which an erasure
// deleted.
func (s *Service) withdraw(ctx context.Context, id int64, kind lead.EventKind, ev lead.Evidence, end func(tx *store.Tx, now time.Time) (changed, keep bool, err error)) error {
	now := s.now()
	ev.At = now
	return s.withTx(ctx, func(tx *store.Tx) error {
		c, err := tx.LeadConsentForUpdate(ctx, id)
		if err != nil {
			return err
		}
		changed, keep, err := end(tx, now)
		if err != nil {
			return err
		}
		hash := lead.EmailHash(c.Email)
		if err := tx.Suppress(ctx, hash, string(kind), now); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		ev.ConsentText, ev.ConsentVersion, ev.Source = c.ConsentText, c.ConsentVersion, c.Source
		e := store.NewConsentEvent{EmailHash: hash, Kind: kind, Evidence: ev}
		if keep {
			e.LeadID = &id
		}
		_, err = tx.AppendConsent(ctx, e)
		return err
	})
}
