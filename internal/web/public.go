package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// honeypot is a form field people never see; bots fill it in.
const honeypot = "website"

// subscribeForm takes a post of the hosted or an embedded form:
// POST /subscribe/{form}, or POST /subscribe for the default form. It
// answers with the same page for a new, pending or confirmed address; the
// form, or a redirect field the site allows, may name where to go instead.
func (s *Server) subscribeForm(w http.ResponseWriter, r *http.Request) {
	form := s.form(r)
	if form == nil {
		s.noForm(w)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, bodyError(err))
		return
	}
	f := r.PostForm
	redirect := s.redirectTo(f.Get("redirect"), postingSite(r))
	if redirect == "" && s.vouched(f.Get("redirect"), f.Get(redirectSig)) {
		// The page shown again after an error carries the first form's
		// redirect; it posts from this server's origin, not the form's site.
		redirect = f.Get("redirect")
	}
	done := func() {
		switch {
		case redirect != "":
			http.Redirect(w, r, redirect, http.StatusSeeOther)
		case form.Redirect != "":
			http.Redirect(w, r, form.Redirect, http.StatusSeeOther)
		default:
			s.page(w, http.StatusOK, "check-inbox.html", map[string]any{"ThankYou": form.ThankYou, "PrivacyURL": s.cfg.PrivacyURL})
		}
	}
	if f.Get(honeypot) != "" {
		s.cfg.Log.Info("web: honeypot filled, signup dropped")
		done()
		return
	}
	if err := s.allowIP(r); err != nil {
		s.fail(w, r, err)
		return
	}
	attrs := lead.Attributes{}
	for k, v := range f {
		if name, ok := strings.CutPrefix(k, "attributes."); ok && v[0] != "" {
			attrs[name] = v[0]
		}
	}
	tr, tfe := checkboxAnswer(f)
	su, fe := formSignup(form, f.Get, attrs, tr)
	if tfe != nil {
		fe = mergeErrors(fe, tfe)
	}
	var err error = fe
	if fe == nil {
		ctx, cancel := s.signupContext(r)
		defer cancel()
		err = s.optin.Subscribe(ctx, su, s.evidence(r, f.Get("source_url")))
	}
	switch {
	case errors.As(err, &fe):
		s.logHiddenProblems(r, form, fe, pageInputs(form))
		s.formPage(w, http.StatusUnprocessableEntity, form, s.refill(form, f, fe, redirect))
	case err != nil:
		s.fail(w, r, err)
	default:
		done()
	}
}

// signupRequest is the JSON body of POST /api/v1/subscribe.
type signupRequest struct {
	lead.Signup
	Form      string `json:"form"`
	SourceURL string `json:"source_url"`
}

func (s *Server) subscribeJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	ctx, cancel := s.signupContext(r)
	defer cancel()
	var req signupRequest
	if err := decodeJSON(r, &req, true); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.allowIP(r); err != nil {
		s.apiError(w, r, err)
		return
	}
	su, own, err := s.apiSignup(req)
	switch {
	case err != nil:
	case own:
		err = s.optin.SubscribeKeepingConsent(ctx, su, s.evidence(r, req.SourceURL))
	default:
		err = s.optin.Subscribe(ctx, su, s.evidence(r, req.SourceURL))
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(acceptedBody)))
	w.WriteHeader(http.StatusAccepted)
	w.Write(acceptedBody)
}

// acceptedBody is every accepted signup's answer, as writeJSON writes it,
// encoded once.
var acceptedBody = func() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]string{
		"status":  "accepted",
		"message": "If the address can receive mail, a confirmation link is on its way.",
	}); err != nil {
		panic(err)
	}
	return b.Bytes()
}()

// apiSignup is the signup a JSON request makes. With "form" (or with no
// consent at all, the default form), the source and consent are the
// form's, and a source, consent_text or consent_version sent as well must
// be the form's. Without, the consent the client showed is recorded as it
// sent it, once its version is known with no other wording: own says so,
// and the caller has the opt-in keep that consent as it subscribes.
func (s *Server) apiSignup(req signupRequest) (su lead.Signup, own bool, err error) {
	explicit := req.ConsentText != "" || req.ConsentVersion != ""
	if req.Form == "" && explicit {
		return req.Signup, true, nil
	}
	var forms campaign.Forms
	if s.cfg.Forms != nil {
		forms = s.cfg.Forms()
	}
	f := forms.Default()
	if req.Form != "" {
		f = forms.Get(req.Form)
	}
	if f == nil {
		if req.Form == "" {
			return req.Signup, false, lead.FieldErrors{"consent_text": "is required: name a form, or send the consent_text and consent_version the person agreed to"}
		}
		names := make([]string, len(forms))
		for i, f := range forms {
			names[i] = f.Slug
		}
		return req.Signup, false, lead.FieldErrors{"form": fmt.Sprintf("there is no form %q (there are: %s)", req.Form, strings.Join(names, ", "))}
	}
	get := func(k string) string {
		switch k {
		case "email":
			return req.Email
		case "first_name":
			return req.FirstName
		case "last_name":
			return req.LastName
		case "source":
			return req.Source
		case "consent_text":
			return req.ConsentText
		case "consent_version":
			return cmp.Or(req.ConsentVersion, f.ConsentVersion) // the API may leave it to the form
		}
		return ""
	}
	su, fe := formSignup(f, get, req.Attributes, trackingAnswer{choice: req.Tracking, text: req.TrackingText, version: req.TrackingVersion})
	if fe != nil {
		return su, false, fe
	}
	return su, false, nil
}

func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}
