package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
)

// ownInputs are posted fields the page shown again does not carry as they
// came: it posts its own consent version, redirect and signature, and never
// the honeypot (empty in every signup that gets this far), a source, a
// consent text or a form name, which are the form's.
// The tracking checkbox is the page's own input, shown only when the form
// asks; a page never carries an answer to a question it does not show.
var ownInputs = map[string]bool{"source": true, "consent_text": true, "consent_version": true, "redirect": true, redirectSig: true, honeypot: true, "form": true,
	"tracking": true, "tracking_text": true, "tracking_version": true}

// redirectSig is the field with the MAC of a carried redirect.
const redirectSig = "redirect_sig"

// redirectPurpose binds a redirect's MAC to its use.
const redirectPurpose = "signup-redirect"

// form finds the form a request names: {form} in the path, or the default
// one. nil when there is none.
func (s *Server) form(r *http.Request) *campaign.Form {
	if s.cfg.Forms == nil {
		return nil
	}
	forms := s.cfg.Forms()
	if slug := r.PathValue("form"); slug != "" {
		return forms.Get(slug)
	}
	return forms.Default()
}

func (s *Server) formAction(f *campaign.Form) string {
	return strings.TrimSuffix(s.cfg.BaseURL.Path, "/") + "/subscribe/" + f.Slug
}

// subscribePage is GET /subscribe/{form} and GET /subscribe: the form. A
// link's ?source= changes nothing: the form records its own source.
func (s *Server) subscribePage(w http.ResponseWriter, r *http.Request) {
	f := s.form(r)
	if f == nil {
		s.noForm(w)
		return
	}
	s.formPage(w, http.StatusOK, f, campaign.FormView{
		// No form of another site posted here: a link to this page may only
		// name a thank-you page on a host the operator allows.
		Redirect: s.redirectTo(r.URL.Query().Get("redirect"), ""),
	})
}

// embedPage shows a form's HTML for other sites. Its action is the
// configured base URL: the Host and X-Forwarded-Proto headers are the
// client's to set.
func (s *Server) embedPage(w http.ResponseWriter, r *http.Request) {
	f := s.form(r)
	if f == nil {
		s.noForm(w)
		return
	}
	s.page(w, http.StatusOK, "embed.html", map[string]any{
		"Form":       f,
		"Action":     strings.TrimSuffix(s.cfg.BaseURL.String(), "/") + "/subscribe/" + f.Slug,
		"PrivacyURL": s.cfg.PrivacyURL,
	})
}

// noForm is the 404 page for a form that does not exist; it says so
// apart when there is none at all.
func (s *Server) noForm(w http.ResponseWriter) {
	none := s.cfg.Forms == nil || len(s.cfg.Forms()) == 0
	s.page(w, http.StatusNotFound, "noform.html", map[string]bool{"None": none})
}

// formPage renders form f in its layout.
func (s *Server) formPage(w http.ResponseWriter, status int, f *campaign.Form, v campaign.FormView) {
	v.Action = s.formAction(f)
	v.PrivacyURL = s.cfg.PrivacyURL
	var buf bytes.Buffer
	if err := f.Page(&buf, v); err != nil {
		s.cfg.Log.Error("web: render form", "form", f.Slug, "layout", f.Layout, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.write(w, status, "subscribe", buf.Bytes())
}

// formSignup is the signup a post to form f makes. Source and consent are
// the form's: a posted source or consent text that differs, or a consent
// version other than the one the form shows now, is an error on that field,
// since the person agreed to what the page showed, and nothing else may be
// recorded. Required fields must be filled in.
func formSignup(f *campaign.Form, get func(string) string, attrs lead.Attributes, tr trackingAnswer) (lead.Signup, lead.FieldErrors) {
	fe := lead.FieldErrors{}
	if v := get("source"); v != "" && v != f.Source {
		fe["source"] = fmt.Sprintf("is %q, but the form %q records the source %q; a form cannot record another one", v, f.Slug, f.Source)
	}
	switch v := strings.TrimSpace(get("consent_version")); {
	case v == "":
		fe["consent_version"] = fmt.Sprintf("is missing: the form must post the version of the consent it shows (form %q shows %q)", f.Slug, f.ConsentVersion)
	case v != f.ConsentVersion:
		fe["consent_version"] = fmt.Sprintf("is %q, but the consent of form %q is version %q now; read it and send the form again", v, f.Slug, f.ConsentVersion)
	}
	if v := get("consent_text"); v != "" && strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n")) != f.ConsentText {
		fe["consent_text"] = fmt.Sprintf("differs from the consent of form %q (version %q), which is the one recorded; read it and send the form again", f.Slug, f.ConsentVersion)
	}
	su := lead.Signup{
		Email: get("email"), FirstName: get("first_name"), LastName: get("last_name"),
		Source: f.Source, ConsentText: f.ConsentText, ConsentVersion: f.ConsentVersion, Attributes: attrs,
	}
	su.Tracking, su.TrackingText, su.TrackingVersion = formTracking(f, tr, fe)
	for _, ff := range f.Fields {
		var empty bool
		if a := ff.Attribute(); a != "" {
			empty = strings.TrimSpace(attrs.String(a)) == ""
		} else {
			empty = strings.TrimSpace(get(ff.Name)) == ""
		}
		if ff.Required && empty {
			fe[ff.Name] = "is required"
		}
	}
	if _, err := su.Normalize(); err != nil {
		var nfe lead.FieldErrors
		if errors.As(err, &nfe) {
			for k, v := range nfe {
				fe[k] = v
			}
		}
	}
	if len(fe) > 0 {
		return su, fe
	}
	return su, nil
}

// hiddenProblems are the errors on fields a person cannot fix on the page:
// the site owner has to, so they are logged.
func (s *Server) logHiddenProblems(r *http.Request, f *campaign.Form, fe lead.FieldErrors, inputs map[string]bool) {
	for k, v := range fe {
		if !inputs[k] {
			s.cfg.Log.Warn("web: a signup form posted a field the person cannot fix; correct the form", "form", f.Slug, "field", k, "problem", v, "referer", truncate(r.Referer(), 200))
		}
	}
}

// pageInputs are the fields form f shows, each with its error.
func pageInputs(f *campaign.Form) map[string]bool {
	in := map[string]bool{}
	for _, ff := range f.Fields {
		in[ff.Name] = true
	}
	if f.Tracking != nil {
		in["tracking"] = true
	}
	return in
}

// refill is the form shown again after a signup's fields failed: what was
// posted, and the errors, those on fields the page has no input for
// listed apart. The consent shown is the form's own, as it is now.
func (s *Server) refill(f *campaign.Form, posted url.Values, fe lead.FieldErrors, redirect string) campaign.FormView {
	inputs := pageInputs(f)
	p := campaign.FormView{Values: map[string]string{}, Errors: fe, Redirect: redirect}
	for k := range posted {
		if !utf8.ValidString(k) {
			continue // refused already; it cannot be carried as it was
		}
		v := strings.ToValidUTF8(posted.Get(k), "\uFFFD")
		p.Values[k] = v
		if !inputs[k] && !ownInputs[k] {
			p.Hidden = append(p.Hidden, campaign.FormValue{Name: k, Value: v})
		}
	}
	slices.SortFunc(p.Hidden, func(a, b campaign.FormValue) int { return strings.Compare(a.Name, b.Name) })
	for field, msg := range fe {
		if !inputs[field] {
			p.Problems = append(p.Problems, campaign.FormValue{Name: field, Value: msg})
		}
	}
	slices.SortFunc(p.Problems, func(a, b campaign.FormValue) int { return strings.Compare(a.Name, b.Name) })
	if redirect != "" && s.cfg.Signer != nil {
		p.RedirectSig = s.cfg.Signer.SignText(redirectPurpose, redirect)
	}
	return p
}

// RenderForm writes form f's page as GET /subscribe/{form} shows it, for
// previews: base is the server's address.
func RenderForm(w io.Writer, base *url.URL, privacyURL string, f *campaign.Form) error {
	return f.Page(w, campaign.FormView{
		PrivacyURL: privacyURL,
		Action:     strings.TrimSuffix(base.String(), "/") + "/subscribe/" + f.Slug,
	})
}
