package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/store"
)

// formConsents are the consent versions the forms of a Set show, and
// the versions of their tracking questions, with the form that shows each.
func formConsents(set *campaign.Set) ([]store.ConsentVersion, map[string]*campaign.Form) {
	var vs []store.ConsentVersion
	by := map[string]*campaign.Form{}
	add := func(f *campaign.Form, version, wording string) {
		if _, dup := by[version]; dup {
			return // the same wording: Load refuses two
		}
		by[version] = f
		vs = append(vs, store.ConsentVersion{Version: version, Wording: wording, FirstSource: f.Source})
	}
	for _, f := range set.Forms {
		add(f, f.ConsentVersion, f.ConsentText)
	}
	for _, f := range set.Forms {
		if t := f.Tracking; t != nil {
			add(f, t.Version, t.Text)
		}
	}
	return vs, by
}

// conflictProblems says, at each form's consent_version line, which
// version was live with other words.
func conflictProblems(cs []store.ConsentConflict, by map[string]*campaign.Form) []campaign.Problem {
	var ps []campaign.Problem
	for _, c := range cs {
		f := by[c.Offered.Version]
		key := "consent_version"
		if f.Tracking != nil && f.Tracking.Version == c.Offered.Version {
			key = "tracking.version"
		}
		ps = append(ps, campaign.Problem{Path: f.Path, Line: f.Line(key), Msg: fmt.Sprintf(
			"%s %q was live with other words since %s (source %s): %q; one version names one wording for good, so give this wording a version of its own, such as %s-2",
			key, c.Known.Version, c.Known.FirstLiveAt.UTC().Format("2 January 2006"), c.Known.FirstSource, c.Known.Wording, c.Known.Version)})
	}
	return ps
}

// registerConsents is the server's vet: the forms' consent versions go
// live, and one known with other words rejects the load.
func registerConsents(st *store.Store, now func() time.Time) campaign.Vet {
	return consentVet(func(ctx context.Context, vs []store.ConsentVersion) ([]store.ConsentConflict, error) {
		return st.RegisterConsentVersions(ctx, vs, now())
	})
}

// checkConsents is the vet of `campaigns check`: it compares with the
// database and keeps nothing.
func checkConsents(st *store.Store) campaign.Vet {
	return consentVet(st.ConsentVersionConflicts)
}

// consentVet vets the forms' consent versions with compare, which holds
// them against those the database knows.
func consentVet(compare func(context.Context, []store.ConsentVersion) ([]store.ConsentConflict, error)) campaign.Vet {
	return func(set *campaign.Set) []campaign.Problem {
		vs, by := formConsents(set)
		if len(vs) == 0 {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cs, err := compare(ctx, vs)
		if err != nil {
			return []campaign.Problem{{Path: set.Forms[0].Path, Line: 1, Msg: fmt.Sprintf("cannot check the consent versions against the database: %v", err)}}
		}
		return conflictProblems(cs, by)
	}
}
