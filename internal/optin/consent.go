package optin

import (
	"context"
	"fmt"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// KeepConsent makes the consent a signup names live, as a form's goes
// live when it loads: its version is kept with its wording from now on,
// and so is the version of its tracking question, when it has one. A
// version known with other words is an error on consent_version (or
// tracking_version), since one version must never name two wordings.
func (s *Service) KeepConsent(ctx context.Context, in lead.Signup) error {
	su, err := in.Normalize()
	if err != nil {
		return err
	}
	return s.keepConsent(ctx, su)
}

// keepConsent is KeepConsent of a normalised signup.
func (s *Service) keepConsent(ctx context.Context, su lead.Signup) error {
	if err := s.keepWording(ctx, "consent_version", su.ConsentVersion, su.ConsentText, su.Source); err != nil {
		return err
	}
	if su.TrackingVersion == "" {
		return nil
	}
	return s.keepWording(ctx, "tracking_version", su.TrackingVersion, su.TrackingText, su.Source)
}

// keepWording keeps version with its wording, or returns an error on field
// when the version names other words. Consent and tracking versions share
// one table: a version is one wording, whatever it is the wording of.
func (s *Service) keepWording(ctx context.Context, field, version, wording, source string) error {
	// A version kept once keeps its words for good, so what this process
	// saw kept needs no second look.
	if known, ok := s.consents.Load(version); ok {
		if known == wording {
			return nil
		}
		return otherWording(field, version)
	}
	cs, err := s.store.RegisterConsentVersions(ctx, []store.ConsentVersion{{
		Version: version, Wording: wording, FirstSource: source,
	}}, s.now())
	if err != nil {
		return fmt.Errorf("optin: keep consent: %w", err)
	}
	if len(cs) > 0 {
		s.consents.Store(version, cs[0].Known.Wording)
		return otherWording(field, version)
	}
	s.consents.Store(version, wording)
	return nil
}

func otherWording(field, version string) error {
	return lead.FieldErrors{field: fmt.Sprintf("%q names another wording already; one version is one wording, so give this wording a version of its own", version)}
}
