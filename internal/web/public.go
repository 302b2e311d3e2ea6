package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/optin"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// honeypot is a form field people never see; bots fill it in.
const honeypot = "website"

// signupForm is what the hosted page renders: the values typed so far and
// what is wrong with them. Shown again after an error, the page must post
// everything the first form did, including an embedded form's fields it has
// no input for, or the signup would lose them.
type signupForm struct {
	Values      map[string]string // posted values, by field name
	Hidden      []formField       // posted fields without an input of their own on the page
	Errors      lead.FieldErrors
	Problems    []formField // errors on fields the person cannot see, with the message as Value
	Action      string
	Redirect    string
	RedirectSig string // vouches for Redirect when the page posts it back
	// The consent the first form showed; "" for the page's own.
	ConsentText, ConsentVersion string
}

type formField struct{ Name, Value string }

// pageInputs are the fields subscribe.html shows, each with its error;
// ownInputs are posted fields it carries in hidden inputs of its own, or
// (the honeypot, empty in every signup that gets this far) never. Every other
// posted field goes back into the page as a plain hidden input.
var (
	pageInputs = map[string]bool{"email": true, "first_name": true, "last_name": true, "attributes.company": true}
	ownInputs  = map[string]bool{"source": true, "consent_text": true, "consent_version": true, "redirect": true, redirectSig: true, honeypot: true}
)

// redirectSig is the field with the MAC of a carried redirect.
const redirectSig = "redirect_sig"

// refill is the page shown again after a signup's fields failed: what was
// posted, and the errors.
func (s *Server) refill(f url.Values, fe lead.FieldErrors, redirect string) signupForm {
	form := signupForm{Values: map[string]string{}, Errors: fe, Redirect: redirect}
	for k := range f {
		if !utf8.ValidString(k) {
			continue // refused already; it cannot be carried as it was
		}
		v := strings.ToValidUTF8(f.Get(k), "\uFFFD")
		form.Values[k] = v
		if !pageInputs[k] && !ownInputs[k] {
			form.Hidden = append(form.Hidden, formField{k, v})
		}
	}
	slices.SortFunc(form.Hidden, func(a, b formField) int { return strings.Compare(a.Name, b.Name) })
	// A source the server refuses is no one's to fix on this page either:
	// the signup goes on with the page's own.
	if _, bad := fe["source"]; bad {
		delete(form.Values, "source")
		delete(fe, "source")
	}
	// The consent shown and posted again is the first form's. Only when it
	// sent none the person can agree to, or one the server refuses (which
	// no one could fix on this page), the page shows its own.
	text, version := form.Values["consent_text"], form.Values["consent_version"]
	_, badText := fe["consent_text"]
	_, badVersion := fe["consent_version"]
	ownConsent := strings.TrimSpace(text) == "" || strings.TrimSpace(version) == "" || badText || badVersion
	if !ownConsent {
		form.ConsentText, form.ConsentVersion = text, version
	}
	for field, msg := range fe {
		consent := field == "consent_text" || field == "consent_version"
		if !pageInputs[field] && !(consent && ownConsent) {
			form.Problems = append(form.Problems, formField{field, msg})
		}
	}
	slices.SortFunc(form.Problems, func(a, b formField) int { return strings.Compare(a.Name, b.Name) })
	if redirect != "" && s.cfg.Signer != nil {
		form.RedirectSig = s.cfg.Signer.SignText(redirectPurpose, redirect)
	}
	return form
}

// redirectPurpose binds a redirect's MAC to its use.
const redirectPurpose = "signup-redirect"

func (s *Server) subscribePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	source := q.Get("source")
	if !lead.ValidSource(source) {
		source = "" // the page's own; a link's typo must not make the form unsendable
	}
	s.page(w, http.StatusOK, "subscribe.html", signupForm{
		Values: map[string]string{"source": source},
		// No form of another site posted here: a link to this page may only
		// name a thank-you page on a host the operator allows.
		Redirect: s.redirectTo(q.Get("redirect"), ""),
	})
}

// embedPage shows a form for other sites. Its action is the configured
// base URL: the Host and X-Forwarded-Proto headers are the client's to set.
func (s *Server) embedPage(w http.ResponseWriter, r *http.Request) {
	s.page(w, http.StatusOK, "embed.html", map[string]string{
		"Action": strings.TrimSuffix(s.cfg.BaseURL.String(), "/") + "/subscribe",
		"Source": r.URL.Query().Get("source"),
	})
}

// subscribeForm takes the hosted or an embedded form. It answers with the
// same page for a new, pending or confirmed address; a form may name where
// to redirect instead.
func (s *Server) subscribeForm(w http.ResponseWriter, r *http.Request) {
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
		if redirect != "" {
			http.Redirect(w, r, redirect, http.StatusSeeOther)
			return
		}
		s.page(w, http.StatusOK, "check-inbox.html", nil)
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
	err := s.optin.Subscribe(r.Context(), lead.Signup{
		Email: f.Get("email"), FirstName: f.Get("first_name"), LastName: f.Get("last_name"),
		Source: f.Get("source"), ConsentText: f.Get("consent_text"), ConsentVersion: f.Get("consent_version"),
		Attributes: attrs,
	}, s.evidence(r, f.Get("source_url")))
	var fe lead.FieldErrors
	switch {
	case errors.As(err, &fe):
		s.page(w, http.StatusUnprocessableEntity, "subscribe.html", s.refill(f, fe, redirect))
	case err != nil:
		s.fail(w, r, err)
	default:
		done()
	}
}

// signupRequest is the JSON body of POST /api/v1/subscribe.
type signupRequest struct {
	lead.Signup
	SourceURL string            `json:"source_url"`
	Challenge map[string]string `json:"challenge"`
}

func (s *Server) subscribeJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.apiError(w, r, bodyError(err))
		return
	}
	var req signupRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		if fe := typeError(err); fe != nil {
			s.apiError(w, r, fe)
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON: " + err.Error()})
		return
	}
	if err := s.guard(r, req.Challenge); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.optin.Subscribe(r.Context(), req.Signup, s.evidence(r, req.SourceURL)); err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{
		"status":  "accepted",
		"message": "If the address can receive mail, a confirmation link is on its way.",
	})
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
	if !s.perIP.Allow(rateKey(s.clientIP(r)), s.cfg.Now()) {
		return errRateLimited
	}
	if s.cfg.Challenge != nil {
		if err := s.cfg.Challenge.Verify(r.Context(), r, values); err != nil {
			s.cfg.Log.Info("web: challenge refused a signup", "err", err)
			return errChallenge
		}
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
	status := statusOf(err)
	s.logFailure(r, status, err)
	setRetryAfter(w, status)
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
	var buf bytes.Buffer
	t, ok := s.pages[name]
	if !ok {
		s.cfg.Log.Error("web: no such page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "base", data); err != nil {
		s.cfg.Log.Error("web: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", referrerPolicy(name))
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors *")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// referrerPolicy keeps token-bearing URLs (confirm, unsubscribe) out of
// Referer headers. The signup page holds no secret: it lets the browser send
// its own URL with the same-origin form post, and that URL goes into the
// consent ledger as the signup's source URL.
func referrerPolicy(page string) string {
	if page == "subscribe.html" {
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
	return errors.Join(errBadRequest, err)
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
