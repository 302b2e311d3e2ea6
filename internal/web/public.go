package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/optin"
	"github.com/nurture/nurture/internal/ratelimit"
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
	values := map[string]string{}
	for k := range f {
		values[k] = f.Get(k)
	}
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
	if err := s.guard(r, values); err != nil {
		s.fail(w, r, err)
		return
	}
	attrs := lead.Attributes{}
	for k, v := range f {
		if name, ok := strings.CutPrefix(k, "attributes."); ok && v[0] != "" {
			attrs[name] = v[0]
		}
	}
	su, fe := formSignup(form, f.Get, attrs)
	var err error = fe
	if fe == nil {
		err = s.optin.Subscribe(r.Context(), su, s.evidence(r, f.Get("source_url")))
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
	Form      string            `json:"form"`
	SourceURL string            `json:"source_url"`
	Challenge map[string]string `json:"challenge"`
}

func (s *Server) subscribeJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	var req signupRequest
	if err := decodeJSON(r, &req, true); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.guard(r, req.Challenge); err != nil {
		s.apiError(w, r, err)
		return
	}
	su, err := s.apiSignup(r, req)
	if err == nil {
		err = s.optin.Subscribe(r.Context(), su, s.evidence(r, req.SourceURL))
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{
		"status":  "accepted",
		"message": "If the address can receive mail, a confirmation link is on its way.",
	})
}

// apiSignup is the signup a JSON request makes. With "form" (or with no
// consent at all, the default form), the source and consent are the
// form's, and a source, consent_text or consent_version sent as well must
// be the form's. Without, the consent the client showed is recorded as it
// sent it, once its version is known with no other wording.
func (s *Server) apiSignup(r *http.Request, req signupRequest) (lead.Signup, error) {
	explicit := req.ConsentText != "" || req.ConsentVersion != ""
	if req.Form == "" && explicit {
		return req.Signup, s.optin.KeepConsent(r.Context(), req.Signup)
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
			return req.Signup, lead.FieldErrors{"consent_text": "is required: name a form, or send the consent_text and consent_version the person agreed to"}
		}
		names := make([]string, len(forms))
		for i, f := range forms {
			names[i] = f.Slug
		}
		return req.Signup, lead.FieldErrors{"form": fmt.Sprintf("there is no form %q (there are: %s)", req.Form, strings.Join(names, ", "))}
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
	su, fe := formSignup(f, get, req.Attributes)
	if fe != nil {
		return su, fe
	}
	return su, nil
}

// typeError turns a JSON value of the wrong type, such as
// {"first_name": 5}, into an error on that field.
func typeError(err error) lead.FieldErrors {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field == "" {
		return nil
	}
	// Fields of the embedded lead.Signup come as "Signup.first_name".
	field := strings.TrimPrefix(te.Field, "Signup.")
	want := "text"
	switch te.Type.Kind() {
	case reflect.Map, reflect.Struct:
		want = "an object"
	case reflect.Bool:
		want = "true or false"
	case reflect.Int, reflect.Int64, reflect.Float64:
		want = "a number"
	}
	return lead.FieldErrors{field: "must be " + want + ", not " + jsonKind(te.Value)}
}

// jsonKind names what a client sent: bool, number (or "number 1.5"),
// string, array or object.
func jsonKind(v string) string {
	switch {
	case v == "bool":
		return "true or false"
	case strings.HasPrefix(v, "number"):
		return "a number"
	case v == "string":
		return "text"
	case v == "array":
		return "a list"
	}
	return "an object"
}

func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// guard applies the per-IP rate limit and the challenge hook.
func (s *Server) guard(r *http.Request, values map[string]string) error {
	if err := s.allowIP(r); err != nil {
		return err
	}
	if s.cfg.Challenge != nil {
		if err := s.cfg.Challenge.Verify(r.Context(), r, values); err != nil {
			s.cfg.Log.Info("web: challenge refused a signup", "err", err)
			return errChallenge
		}
	}
	return nil
}

// allowIP applies the per-IP limit that signups and resends share.
func (s *Server) allowIP(r *http.Request) error {
	key, now := rateKey(s.clientIP(r)), s.cfg.Now()
	if !s.perIP.Allow(key, now) {
		return &ratelimit.Limited{Err: errRateLimited, After: s.perIP.Retry(key, now)}
	}
	return nil
}

// rateKey is whom the per-IP limit counts: an IPv4 address, or an IPv6
// client's /64, since one subscriber line gets a whole /64 and can pick a
// fresh address from it for every request.
func rateKey(ip netip.Addr) string {
	if ip.Is4() || ip.Is4In6() {
		return ip.Unmap().String()
	}
	return netip.PrefixFrom(ip, 64).Masked().String()
}

func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	state, err := s.optin.CheckConfirm(r.Context(), tok)
	switch {
	case err != nil:
		s.fail(w, r, err)
	case state.Confirmed:
		s.page(w, http.StatusOK, "confirmed.html", map[string]bool{"Already": true})
	default:
		s.page(w, http.StatusOK, "confirm.html", map[string]string{"Token": tok})
	}
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	already, err := s.optin.Confirm(r.Context(), r.PathValue("token"), s.evidence(r, ""))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, http.StatusOK, "confirmed.html", map[string]bool{"Already": already})
}

func (s *Server) resend(w http.ResponseWriter, r *http.Request) {
	if err := s.allowIP(r); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.optin.Resend(r.Context(), r.PathValue("token"), s.evidence(r, "")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, http.StatusOK, "check-inbox.html", map[string]bool{"Resent": true})
}

func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	email, err := s.optin.CheckUnsubscribe(r.Context(), r.PathValue("token"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, http.StatusOK, "unsubscribe.html", map[string]string{"Token": r.PathValue("token"), "Email": email})
}

// unsubscribe is both the page's button and RFC 8058 one-click: a POST
// without cookies, with body List-Unsubscribe=One-Click, from a mail client.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	if err := s.optin.Unsubscribe(r.Context(), r.PathValue("token"), s.evidence(r, "")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, http.StatusOK, "unsubscribed.html", nil)
}

// fail renders an error page with the status the error maps to.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	retryHint(w, err)
	status := statusOf(err)
	s.logFailure(r, status, err)
	switch {
	case status == http.StatusNotFound:
		s.page(w, status, "notfound.html", nil)
	case errors.Is(err, optin.ErrRevoked):
		// Gone like an expired link, but with nothing to renew.
		s.page(w, status, "revoked.html", nil)
	case status == http.StatusGone:
		s.page(w, status, "expired.html", map[string]string{"Token": r.PathValue("token")})
	default:
		s.page(w, status, "error.html", map[string]any{"Status": status, "Message": message(err)})
	}
}

func (s *Server) page(w http.ResponseWriter, status int, name string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.cfg.Log.Error("web: no such page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base", data); err != nil {
		s.cfg.Log.Error("web: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.write(w, status, name, buf.Bytes())
}

// write sends a rendered page, named name for its referrer policy.
func (s *Server) write(w http.ResponseWriter, status int, name string, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", referrerPolicy(name))
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors *")
	w.WriteHeader(status)
	w.Write(page)
}

// referrerPolicy keeps token-bearing URLs (confirm, unsubscribe) out of
// Referer headers. The signup page holds no secret: it lets the browser send
// its own URL with the same-origin form post, and that URL goes into the
// consent ledger as the signup's source URL.
func referrerPolicy(page string) string {
	if page == "subscribe" {
		return "same-origin"
	}
	return "no-referrer"
}

// bodyError tells an oversized body from a malformed one.
func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge
	}
	return badRequest("the request body could not be read: " + err.Error())
}

// redirectTo returns the thank-you page a signup form named, or "" for the
// hosted "check your inbox" page. A form embedded on another site may send
// the person back to that site (site is the host of the posting page, from
// Origin or Referer); any form may send them to the base URL's host or to a
// host in NURTURE_REDIRECT_HOSTS. Anything else would make this server an
// open redirect, so it is ignored.
func (s *Server) redirectTo(raw, site string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(raw, "\r\n") {
		return ""
	}
	host := hostOf(u)
	if host == "" {
		return ""
	}
	if host == site || host == hostOf(s.cfg.BaseURL) || slices.Contains(s.cfg.RedirectHosts, host) {
		return u.String()
	}
	return ""
}

// vouched reports whether sig is this server's MAC of redirect, handed out
// in a form shown again after an error (see refill).
func (s *Server) vouched(redirect, sig string) bool {
	return redirect != "" && sig != "" && s.cfg.Signer != nil && s.cfg.Signer.VerifyText(redirectPurpose, redirect, sig)
}

// postingSite is the host of the page whose form was posted: the Origin
// header's, or the Referer's when a browser sent no Origin. "" when neither
// names one (Origin: null, say).
func postingSite(r *http.Request) string {
	src, ok := r.Header["Origin"]
	if !ok {
		src = r.Header["Referer"]
	}
	if len(src) != 1 {
		return ""
	}
	u, err := url.Parse(src[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return hostOf(u)
}

// hostOf is u's host in lower case, without the scheme's default port.
func hostOf(u *url.URL) string {
	host := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "https":
		host = strings.TrimSuffix(host, ":443")
	case u.Scheme == "http":
		host = strings.TrimSuffix(host, ":80")
	}
	return host
}
