package optin

import (
	"context"
	"fmt"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// KeepConsent makes the consent a signup names live, as a form's goes
// live when it loads: its version is kept with its wording from now on. A
// version known with other words is an error on consent_version, since one
// version must never name two wordings.
func (s *Service) KeepConsent(ctx context.Context, in lead.Signup) error {
	su, err := in.Normalize()
	if err != nil {
		return err
	}
	// A version kept once keeps its words for good, so what this process
	// saw kept needs no second look.
	if known, ok := s.consents.Load(su.ConsentVersion); ok {
		if known == su.ConsentText {
			return nil
		}
		return otherWording(su.ConsentVersion)
	}
	cs, err := s.store.RegisterConsentVersions(ctx, []store.ConsentVersion{{
		Version: su.ConsentVersion, Wording: su.ConsentText, FirstSource: su.Source,
	}}, s.now())
	if err != nil {
		return fmt.Errorf("optin: keep consent: %w", err)
	}
	if len(cs) > 0 {
		s.consents.Store(su.ConsentVersion, cs[0].Known.Wording)
		return otherWording(su.ConsentVersion)
	}
	s.consents.Store(su.ConsentVersion, su.ConsentText)
	return nil
}

func otherWording(version string) error {
	return lead.FieldErrors{"consent_version": fmt.Sprintf("%q names another wording already; one version is one wording, so give this consent a version of its own", version)}
}
