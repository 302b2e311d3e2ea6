package optin

import (
	"context"
	"errors"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// Tracking modes, NURTURE_TRACKING.
const (
	TrackingConsent = "consent" // a lead is tracked when it agreed
	TrackingAll     = "all"     // every lead is tracked
	TrackingOff     = "off"     // no lead is tracked
)

// ErrNotConfirmed is a grant of tracking to a lead that has not confirmed:
// its confirmation applies the answer of the signup it confirms.
var ErrNotConfirmed = errors.New("optin: the lead is not confirmed")

// TrackingState is a lead's consent to open and click tracking.
type TrackingState struct {
	Lead    int64  `json:"-"`
	Email   string `json:"-"`
	Source  string `json:"-"`
	Consent bool   `json:"consent"` // the lead agreed (leads.tracking)
	Tracked bool   `json:"tracked"` // its mails and site visits are tracked now, under Mode
	Mode    string `json:"mode"`    // NURTURE_TRACKING
	// Text and Version are the words of the agreement in force, from the
	// last grant or the signup the lead confirmed; "" without one.
	Text    string `json:"text,omitempty"`
	Version string `json:"version,omitempty"`
}

// Wording is the words of a tracking question and their version.
type Wording struct{ Text, Version string }

func (s *Service) trackingState(t *store.LeadTracking) TrackingState {
	st := TrackingState{
		Lead: t.ID, Email: t.Email, Source: t.Source, Consent: t.Tracking, Mode: s.opts.Tracking,
		Tracked: s.opts.Tracking == TrackingAll || s.opts.Tracking == TrackingConsent && t.Tracking,
	}
	if t.Tracking {
		st.Text, st.Version = t.TrackingText, t.TrackingVersion
	}
	return st
}

// Tracking returns lead id's tracking consent.
func (s *Service) Tracking(ctx context.Context, id int64) (TrackingState, error) {
	t, err := s.store.LeadTracking(ctx, id)
	if err != nil {
		return TrackingState{}, err
	}
	return s.trackingState(t), nil
}

// CheckTracking returns the tracking consent of the lead behind a footer
// link's token, for the page that GET shows. It changes nothing.
func (s *Service) CheckTracking(ctx context.Context, tok string) (TrackingState, error) {
	id, err := s.links.VerifyTracking(tok)
	if err != nil {
		return TrackingState{}, ErrNotFound
	}
	return s.Tracking(ctx, id)
}

// SetTrackingByToken is SetTracking for the lead behind a footer link's
// token.
func (s *Service) SetTrackingByToken(ctx context.Context, tok string, on bool, w Wording, ev lead.Evidence) (TrackingState, bool, error) {
	id, err := s.links.VerifyTracking(tok)
	if err != nil {
		return TrackingState{}, false, ErrNotFound
	}
	return s.SetTracking(ctx, id, on, w, ev)
}

// SetTracking grants (on) or withdraws lead id's consent to open and click
// tracking. A grant names the words the person agreed to (w), and is for a
// confirmed lead only (ErrNotConfirmed); a withdrawal withdraws the
// agreement in force, and w is ignored. A change is a ledger entry,
// tracking_granted or tracking_withdrawn, with the request's evidence; a
// request that changes nothing writes nothing (changed false).
func (s *Service) SetTracking(ctx context.Context, id int64, on bool, w Wording, ev lead.Evidence) (TrackingState, bool, error) {
	if on {
		probe := lead.Signup{Email: "probe@example.com", ConsentText: "-", ConsentVersion: "-", Tracking: &on, TrackingText: w.Text, TrackingVersion: w.Version}
		su, err := probe.Normalize()
		if err != nil {
			return TrackingState{}, false, err
		}
		w = Wording{su.TrackingText, su.TrackingVersion}
		if err := s.keepWording(ctx, "tracking_version", w.Version, w.Text, ""); err != nil {
			return TrackingState{}, false, err
		}
	}
	now := s.now()
	var (
		state   TrackingState
		changed bool
	)
	err := s.withTx(ctx, func(tx *store.Tx) error {
		t, err := tx.LeadTrackingForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if on && t.Status != lead.StatusConfirmed {
			return ErrNotConfirmed
		}
		if !on {
			w = Wording{t.TrackingText, t.TrackingVersion}
		}
		if changed, err = tx.SetLeadTracking(ctx, id, on, now); err != nil || !changed {
			state = s.trackingState(t)
			return err
		}
		kind := lead.EventTrackingWithdrawn
		if on {
			kind = lead.EventTrackingGranted
		}
		ev.At, ev.Tracking, ev.TrackingText, ev.TrackingVersion = now, &on, w.Text, w.Version
		ev.IP, ev.UserAgent, ev.SourceURL = cleanText(ev.IP), cleanText(ev.UserAgent), cleanText(ev.SourceURL)
		if _, err := tx.AppendConsent(ctx, store.NewConsentEvent{LeadID: &id, EmailHash: lead.EmailHash(t.Email), Kind: kind, Evidence: ev}); err != nil {
			return err
		}
		t.Tracking, t.TrackingText, t.TrackingVersion = on, w.Text, w.Version
		state = s.trackingState(t)
		return nil
	})
	if err == nil && changed {
		s.log.Info("optin: tracking consent changed", "granted", on)
	}
	return state, changed, err
}
