package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/optin"
)

// TrackingConsent is a lead's consent to open and click tracking as the
// HTTP surface changes it; *optin.Service is one.
type TrackingConsent interface {
	Tracking(ctx context.Context, leadID int64) (optin.TrackingState, error)
	CheckTracking(ctx context.Context, tok string) (optin.TrackingState, error)
	SetTracking(ctx context.Context, leadID int64, on bool, w optin.Wording, ev lead.Evidence) (optin.TrackingState, bool, error)
	SetTrackingByToken(ctx context.Context, tok string, on bool, w optin.Wording, ev lead.Evidence) (optin.TrackingState, bool, error)
}

func (s *Server) trackingRoutes() []route {
	if s.cfg.Tracking == nil {
		return nil
	}
	return []route{
		{"PUT", "/api/v1/leads/{ref}/tracking", s.putTracking, true},
		{"GET", "/tracking/{token}", s.trackingPage, false},
		{"POST", "/tracking/{token}", s.setTrackingPage, false},
	}
}

// trackingWording is the tracking question a lead whose signup source is
// source is asked again after the signup: that of the form it signed up
// through, or else the default form's; nil when neither asks one.
func (s *Server) trackingWording(source string) *campaign.TrackingConsent {
	if s.cfg.Forms == nil {
		return nil
	}
	forms := s.cfg.Forms()
	for _, f := range forms {
		if f.Source == source && f.Tracking != nil {
			return f.Tracking
		}
	}
	if f := forms.Default(); f != nil {
		return f.Tracking
	}
	return nil
}

// putTracking is PUT /api/v1/leads/{ref}/tracking: a grant, with the words
// the person agreed to (or those of the lead's form), or a withdrawal.
func (s *Server) putTracking(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Tracking *bool  `json:"tracking"`
		Text     string `json:"tracking_text"`
		Version  string `json:"tracking_version"`
	}
	const example = `{"tracking": false}, or {"tracking": true} with the "tracking_text" and "tracking_version" the person agreed to`
	d := s.readForLead(w, r, &in, example, func() bool { return in.Tracking != nil })
	if d == nil {
		return
	}
	wd := optin.Wording{Text: in.Text, Version: in.Version}
	if *in.Tracking && in.Text == "" && in.Version == "" {
		if t := s.trackingWording(d.Source); t != nil {
			wd = optin.Wording{Text: t.Text, Version: t.Version}
		}
	}
	st, changed, err := s.cfg.Tracking.SetTracking(r.Context(), d.ID, *in.Tracking, wd, s.evidence(r, ""))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"lead": d.ID, "tracking": st, "changed": changed})
}

// trackingPage is GET /tracking/{token}, the footer link: the lead's
// tracking consent with a button that changes it. It changes nothing
// itself: link scanners follow every GET.
func (s *Server) trackingPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Tracking.CheckTracking(r.Context(), r.PathValue("token"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.showTracking(w, r, http.StatusOK, st, false, "")
}

// setTrackingPage is the page's button: tracking=yes grants, with the
// version of the question the page showed, and tracking=no withdraws.
func (s *Server) setTrackingPage(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, bodyError(err))
		return
	}
	var on bool
	switch v := r.PostForm.Get("tracking"); v {
	case "yes":
		on = true
	case "no":
	default:
		s.fail(w, r, badRequest(fmt.Sprintf("tracking is %q: the page posts yes or no", v)))
		return
	}
	st, err := s.cfg.Tracking.CheckTracking(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var wd optin.Wording
	if on {
		t := s.trackingWording(st.Source)
		if t == nil || strings.TrimSpace(r.PostForm.Get("tracking_version")) != t.Version {
			// The question changed (or went) since the page was shown: the
			// person agreed to words that are no longer asked.
			s.showTracking(w, r, http.StatusUnprocessableEntity, st, false, "The question changed since the page was shown; nothing was recorded. Read it as it is now and answer again.")
			return
		}
		wd = optin.Wording{Text: t.Text, Version: t.Version}
	}
	now, changed, err := s.cfg.Tracking.SetTrackingByToken(r.Context(), tok, on, wd, s.evidence(r, ""))
	if errors.Is(err, optin.ErrNotConfirmed) {
		s.showTracking(w, r, http.StatusConflict, st, false, "Your address is not confirmed yet: the consent you give with the confirmation applies.")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Done, too, when the consent was so already: the page says where it stands.
	s.showTracking(w, r, http.StatusOK, now, changed || now.Consent == on, "")
}

func (s *Server) showTracking(w http.ResponseWriter, r *http.Request, status int, st optin.TrackingState, changed bool, problem string) {
	data := map[string]any{
		"State":   st,
		"Changed": changed,
		"Problem": problem,
		"Action":  strings.TrimSuffix(s.cfg.BaseURL.Path, "/") + "/tracking/" + r.PathValue("token"),
	}
	if t := s.trackingWording(st.Source); t != nil {
		data["Wording"] = t
	}
	s.page(w, status, "tracking.html", data)
}
