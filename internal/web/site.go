package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/ratelimit"
	"github.com/nurture/nurture/internal/tracking"
)

// Site records the page views that /t.js reports from the marketer's
// site; cmd adapts the event recorder to it.
type Site interface {
	Record(ctx context.Context, evs []SiteEvent) error
}

// SiteEvent is one event to record, in the shape of the event recorder's
// own (engage.Event), so that one converts to the other.
type SiteEvent struct {
	Lead           string // the lead's id
	Type, URL      string
	At             time.Time
	IdempotencyKey string
	Source         string // site
}

//go:embed t.js
var siteScript []byte

var siteScriptETag = func() string {
	sum := sha256.Sum256(siteScript)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// viewID is the script's random id of one page view.
var viewID = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

const maxViewBody = 4 << 10

func (s *Server) siteRoutes() []route {
	if s.cfg.Site == nil || s.cfg.Tracking == nil || s.cfg.SiteSigner == nil {
		return nil
	}
	return []route{
		{"GET", "/t.js", s.siteJS, false},
		{"POST", "/t/view", s.siteView, false},
		{"OPTIONS", "/t/view", s.sitePreflight, false},
	}
}

// siteJS serves the script a marketer embeds on their site. It is the same
// for every site, so browsers and proxies may keep it an hour.
func (s *Server) siteJS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", siteScriptETag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	http.ServeContent(w, r, "t.js", time.Time{}, bytes.NewReader(siteScript))
}

// siteOrigin is the request's Origin when its host is one of the site
// hosts, else "".
func (s *Server) siteOrigin(r *http.Request) string {
	o := r.Header.Get("Origin")
	u, err := url.Parse(o)
	if o == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" {
		return ""
	}
	if !slices.Contains(s.cfg.SiteHosts, hostOf(u)) {
		return ""
	}
	return o
}

var errOrigin = errors.New("this origin may not report page views; list its host in NURTURE_SITE_HOSTS")

// sitePreflight answers a browser's CORS preflight for /t/view: only the
// site hosts are allowed.
func (s *Server) sitePreflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	origin := s.siteOrigin(r)
	if origin == "" {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": errOrigin.Error()})
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// siteView is POST /t/view: a page view of the lead that nt names, from a
// page of a site host. It answers 204 once recorded; 404 for a reference
// that is not valid and 410 for a lead that is not tracked (the script
// then forgets the reference); 403 for any other origin.
func (s *Server) siteView(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	origin := s.siteOrigin(r)
	if origin == "" {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": errOrigin.Error()})
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	key, now := rateKey(s.clientIP(r)), s.cfg.Now()
	if !s.views.Allow(key, now) {
		writeError(w, &ratelimit.Limited{Err: errRateLimited, After: s.views.Retry(key, now)})
		return
	}
	var in struct {
		NT  string `json:"nt"`
		URL string `json:"url"`
		ID  string `json:"id"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxViewBody)
	if err := decodeJSON(r, &in, false); err != nil {
		s.apiError(w, r, err)
		return
	}
	page, err := s.sitePage(in.URL)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	ref, err := s.cfg.SiteSigner.Parse(in.NT)
	if err != nil || ref.Kind != tracking.KindSite {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "nt is not a lead reference of this server"})
		return
	}
	st, err := s.cfg.Tracking.Tracking(r.Context(), ref.Message)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if !st.Tracked {
		writeJSON(w, http.StatusGone, map[string]string{"error": "this lead is not tracked"})
		return
	}
	ev := SiteEvent{Lead: strconv.FormatInt(ref.Message, 10), Type: "page_view", URL: page, At: now, Source: "site"}
	if viewID.MatchString(in.ID) {
		// Namespaced, so that no page can take a key a CRM uses.
		ev.IdempotencyKey = "site:" + ev.Lead + ":" + in.ID
	}
	if err := s.cfg.Site.Record(r.Context(), []SiteEvent{ev}); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// sitePage checks a reported page's address: http(s) on a site host. It
// returns it without its fragment and without an nt parameter, so that no
// lead reference is stored.
func (s *Server) sitePage(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || len(raw) > 2000 || (u.Scheme != "http" && u.Scheme != "https") || !slices.Contains(s.cfg.SiteHosts, hostOf(u)) {
		return "", badRequest("url must be the address of a page on a host in NURTURE_SITE_HOSTS")
	}
	u.Fragment, u.RawFragment = "", ""
	if q := u.Query(); q.Has("nt") {
		q.Del("nt")
		u.RawQuery = q.Encode()
	}
	return strings.TrimSuffix(u.String(), "?"), nil
}
