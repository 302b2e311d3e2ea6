package web

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/optin"
	"github.com/nurture/nurture/internal/ratelimit"
	"github.com/nurture/nurture/internal/token"
	"github.com/nurture/nurture/internal/tracking"
)

// OptIn is the double opt-in as the HTTP surface uses it;
// *optin.Service is one.
type OptIn interface {
	Subscribe(ctx context.Context, in lead.Signup, ev lead.Evidence) error
	// SubscribeKeepingConsent is Subscribe of a signup that names its own
	// consent, whose version is first kept with its wording (or the signup
	// refused when the version names other words).
	SubscribeKeepingConsent(ctx context.Context, in lead.Signup, ev lead.Evidence) error
	CheckConfirm(ctx context.Context, tok string) (optin.ConfirmState, error)
	Confirm(ctx context.Context, tok string, ev lead.Evidence) (already bool, err error)
	Resend(ctx context.Context, tok string, ev lead.Evidence) error
	CheckUnsubscribe(ctx context.Context, tok string) (string, error)
	Unsubscribe(ctx context.Context, tok string, ev lead.Evidence) error
	Lookup(ctx context.Context, ref string) (*optin.Detail, error)
	Erase(ctx context.Context, id int64, ev lead.Evidence) error
}

// Config wires the HTTP surface; zero values take the defaults.
type Config struct {
	BaseURL        *url.URL // NURTURE_BASE_URL, where this server is reached; required
	AdminToken     string
	TrustedProxies []netip.Prefix
	RedirectHosts  []string      // hosts any form may redirect to; see redirectTo
	RatePerIP      int           // signups per minute per client IP; 0 = unlimited
	MaxBody        int64         // default 64 KiB
	Timeout        time.Duration // per request, default 10s
	Templates      fs.FS         // holds pages/*.html
	Signer         *token.Signer // vouches for the redirect a form shown again carries; optional
	Ready          func(ctx context.Context) error
	Sequences      Sequences        // the admin API for stages and enrolments; optional
	Tracking       TrackingConsent  // the leads' consent to tracking: PUT …/tracking and the footer link's page; optional
	Site           Site             // /t.js and the page views it reports; optional
	SiteHosts      []string         // NURTURE_SITE_HOSTS: the only origins /t/view takes
	SiteSigner     *tracking.Signer // checks the lead references (nt) page views carry
	Webhooks       Webhooks         // redelivery and attempts of handoff webhooks; optional
	Sales          Sales            // the sales API and the owners' action links; optional
	SalesToken     string           // NURTURE_SALES_TOKEN: the sales API takes it or AdminToken
	Engage         Engagement       // opens, clicks and events; optional
	Reports        Reports          // the admin API's reports; optional
	// Forms returns the signup forms that are live now; nil means none.
	Forms      func() campaign.Forms
	PrivacyURL string // NURTURE_PRIVACY_URL, linked from every form; optional
	Version    string // shown by GET /api/v1
	Now        func() time.Time
	Log        *slog.Logger
}

// Server serves Nurture's HTTP API and pages.
type Server struct {
	cfg   Config
	optin OptIn
	pages map[string]*template.Template
	perIP *ratelimit.Keyed
	views *ratelimit.Keyed // page views reported to /t/view, per IP
}

// New parses the page templates; one that does not parse stops the start.
func New(o OptIn, cfg Config) (*Server, error) {
	if cfg.BaseURL == nil {
		return nil, errors.New("web: Config.BaseURL is required")
	}
	cfg.MaxBody = cmp.Or(cfg.MaxBody, 64<<10)
	cfg.Timeout = cmp.Or(cfg.Timeout, 10*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	names, err := fs.Glob(cfg.Templates, "pages/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimPrefix(name, "pages/")
		if base == "base.html" {
			continue
		}
		t, err := template.ParseFS(cfg.Templates, "pages/base.html", name)
		if err != nil {
			return nil, err
		}
		pages[base] = t
	}
	return &Server{cfg: cfg, optin: o, pages: pages, perIP: ratelimit.New(cfg.RatePerIP, time.Minute),
		views: ratelimit.New(cfg.RatePerIP, time.Minute)}, nil
}

// route is one endpoint; the API index lists the same table that is served.
type route struct {
	method, path string
	handler      http.HandlerFunc
	admin        bool // needs the admin bearer token
}

func (s *Server) routes() []route {
	rs := []route{
		{"GET", "/healthz", s.healthz, false},
		{"GET", "/readyz", s.readyz, false},
		{"GET", "/api/v1", s.apiIndex, false},
		{"GET", "/subscribe", s.subscribePage, false},
		{"POST", "/subscribe", s.subscribeForm, false},
		{"GET", "/subscribe/embed", s.embedPage, false},
		{"GET", "/subscribe/{form}", s.subscribePage, false},
		{"POST", "/subscribe/{form}", s.subscribeForm, false},
		{"GET", "/subscribe/{form}/embed", s.embedPage, false},
		{"POST", "/api/v1/subscribe", s.subscribeJSON, false},
		{"OPTIONS", "/api/v1/subscribe", s.preflight, false},
		{"GET", "/confirm/{token}", s.confirmPage, false},
		{"POST", "/confirm/{token}", s.confirm, false},
		{"POST", "/confirm/{token}/resend", s.resend, false},
		{"GET", "/unsubscribe/{token}", s.unsubscribePage, false},
		{"POST", "/unsubscribe/{token}", s.unsubscribe, false},
		{"GET", "/api/v1/leads/{ref}", s.getLead, true},
		{"DELETE", "/api/v1/leads/{ref}", s.eraseLead, true},
	}
	rs = append(rs, s.sequenceRoutes()...)
	rs = append(rs, s.trackingRoutes()...)
	rs = append(rs, s.siteRoutes()...)
	rs = append(rs, s.salesPageRoutes()...)
	rs = append(rs, s.engageRoutes()...)
	rs = append(rs, s.reportRoutes()...)
	return rs
}

// salesRoutes are the sales API's: they take the sales bearer token
// (NURTURE_SALES_TOKEN) as well as the admin one. Each area adds its own.
func (s *Server) salesRoutes() []route {
	var rs []route
	rs = append(rs, s.handoffRoutes()...)
	rs = append(rs, s.webhookRoutes()...)
	return rs
}

// Handler returns the routes, each with a body limit and a timeout (the
// pixel and the tracked links: their own, see hitRoutes).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/subscribe", http.StatusFound)
	})
	mux.HandleFunc("GET /api/v1/{$}", s.apiIndex)
	for _, rt := range s.routes() {
		var h http.Handler = rt.handler
		if rt.admin {
			h = s.admin(rt.handler)
		}
		mux.Handle(rt.method+" "+rt.path, h)
	}
	for _, rt := range s.salesRoutes() {
		mux.Handle(rt.method+" "+rt.path, s.sales(rt.handler))
	}
	// limitBody hands MaxBytesReader the server's own writer, which it asks to
	// close the connection of an oversized body.
	timed := s.limitBody(retryAfter(http.TimeoutHandler(methodOrRoute(mux), s.cfg.Timeout, "request timed out")))
	// The signups, the pixel and the links bound their own wait: see
	// signupRoutes and hitRoutes.
	outer := http.NewServeMux()
	outer.Handle("/", timed)
	for _, rt := range append(s.signupRoutes(), s.hitRoutes()...) {
		outer.Handle(rt.method+" "+rt.path, s.limitBody(retryAfter(rt.handler)))
	}
	return outer
}

// signupRoutes are the posts of a signup, which routes() lists as well.
// Each waits for its signup under a deadline of the request timeout
// (signupContext), and an answer that has run out of time is a 503 with
// Retry-After as from http.TimeoutHandler, which they are served without:
// its goroutine, buffered answer and copied headers per request cost more
// than the rest of the handler outside the signup itself.
func (s *Server) signupRoutes() []route {
	return []route{
		{"POST", "/subscribe", s.subscribeForm, false},
		{"POST", "/subscribe/{form}", s.subscribeForm, false},
		{"POST", "/api/v1/subscribe", s.subscribeJSON, false},
	}
}

// signupContext bounds a signup's wait by the request timeout. A signup the
// writer has taken before then has its answer once its batch commits or
// fails, which the batch's own deadline bounds.
func (s *Server) signupContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.cfg.Timeout)
}

// apiIndex is GET /api/v1: what this server is and every endpoint it serves.
func (s *Server) apiIndex(w http.ResponseWriter, r *http.Request) {
	type endpoint struct {
		Method string `json:"method"`
		Path   string `json:"path"`
		Admin  bool   `json:"admin"`           // needs a bearer token
		Sales  bool   `json:"sales,omitempty"` // the sales token does too
	}
	var eps []endpoint
	for _, rt := range s.routes() {
		eps = append(eps, endpoint{rt.method, rt.path, rt.admin, false})
	}
	for _, rt := range s.salesRoutes() {
		eps = append(eps, endpoint{rt.method, rt.path, true, true})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name":      "nurture",
		"version":   cmp.Or(s.cfg.Version, "dev"),
		"endpoints": eps,
	})
}

func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBody {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				s.apiError(w, r, errTooLarge)
			} else {
				s.fail(w, r, errTooLarge)
			}
			return
		}
		if r.Body != http.NoBody { // a GET's, the pixel's and the links' included, has nothing to limit
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// evidence is what the request proves about who consented, and how.
func (s *Server) evidence(r *http.Request, sourceURL string) lead.Evidence {
	return lead.Evidence{
		IP:        s.clientIP(r).String(),
		UserAgent: truncate(r.UserAgent(), 1000),
		SourceURL: truncate(cmp.Or(sourceURL, r.Referer()), 2000),
	}
}

// clientIP is the socket's peer, or the rightmost X-Forwarded-For entry that
// is not a trusted proxy when the peer itself is one.
func (s *Server) clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	ip = ip.Unmap()
	if !s.trusted(ip) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return ip
		}
		ip = hop.Unmap()
		if !s.trusted(ip) {
			return ip
		}
	}
	return ip
}

func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (s *Server) admin(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// RFC 9110 §11.1: the scheme is case-insensitive.
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || s.cfg.AdminToken == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.AdminToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="nurture"`)
			writeError(w, errUnauthorized)
			return
		}
		h(w, r)
	})
}

func (s *Server) getLead(w http.ResponseWriter, r *http.Request) {
	d, err := s.optin.Lookup(r.Context(), r.PathValue("ref"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, leadResponse{Lead: d.Lead, Ledger: d.Ledger, Tracking: d.Tracking})
}

// leadResponse is GET /api/v1/leads/{ref}: the lead with its consent
// ledger.
type leadResponse struct {
	*lead.Lead
	Ledger []lead.ConsentEvent `json:"consent_ledger"`
	// Tracking is its consent to open and click tracking; the ledger holds
	// the answers and changes that led to it.
	Tracking optin.TrackingState `json:"tracking"`
}

func (s *Server) eraseLead(w http.ResponseWriter, r *http.Request) {
	d, err := s.optin.Lookup(r.Context(), r.PathValue("ref"))
	if err == nil {
		err = s.optin.Erase(r.Context(), d.ID, s.evidence(r, ""))
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	s.logFailure(r, statusOf(err), err)
	writeError(w, err)
}

// logFailure logs a request that failed on the server's side: an error,
// or a warning when the database is away, which the client is told to
// wait out.
func (s *Server) logFailure(r *http.Request, status int, err error) {
	switch {
	case status == http.StatusServiceUnavailable:
		s.cfg.Log.Warn("web: database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	case status >= 500:
		s.cfg.Log.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
}

func writeError(w http.ResponseWriter, err error) {
	retryHint(w, err)
	body := map[string]any{"error": message(err)}
	var fe lead.FieldErrors
	if errorsAs(err, &fe) {
		body["fields"] = fe
	}
	status := statusOf(err)
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
