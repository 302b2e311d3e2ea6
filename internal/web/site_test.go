package web

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/nurture/nurture/internal/tracking"
)

// fakeSite keeps the events /t/view records.
type fakeSite struct {
	mu     sync.Mutex
	events []SiteEvent
	err    error
}

func (f *fakeSite) Record(ctx context.Context, evs []SiteEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, evs...)
	return f.err
}

var siteSigner = tracking.NewSigner([]byte(strings.Repeat("s", 32)))

func setupSite(t *testing.T, edit func(*Config)) (*handlerBundle, *fakeTracking, *fakeSite) {
	t.Helper()
	site := &fakeSite{}
	b, tr := setupTracking(t, func(c *Config) {
		c.Site, c.SiteSigner, c.SiteHosts = site, siteSigner, []string{"www.acme.example", "shop.acme.example:8443"}
		if edit != nil {
			edit(c)
		}
	})
	tr.state.Consent, tr.state.Tracked = true, true
	return b, tr, site
}

const siteOrigin = "https://www.acme.example"

func viewBody(nt, page string) string {
	return `{"nt": "` + nt + `", "url": "` + page + `", "id": "abcdef0123456789"}`
}

func TestSiteJS_IsCachedJavaScript(t *testing.T) {
	t.Parallel()
	b, _, _ := setupSite(t, nil)
	res, body := b.do(t, "GET", "/t.js", "", "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		res.Header.Get("Cache-Control") != "public, max-age=3600" || res.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(body, "sendBeacon") || !strings.Contains(body, "localStorage") {
		t.Fatalf("%d %v", res.StatusCode, res.Header)
	}
	if res, _ := b.do(t, "GET", "/t.js", "", "", "If-None-Match", res.Header.Get("ETag")); res.StatusCode != 304 {
		t.Errorf("If-None-Match: %d", res.StatusCode)
	}
	none := setupHandlers(t, nil)
	if res, _ := none.do(t, "GET", "/t.js", "", ""); res.StatusCode != 404 {
		t.Errorf("without a site recorder /t.js is served: %d", res.StatusCode)
	}
}

func TestSiteView_RecordsThePageWithoutTheReference(t *testing.T) {
	t.Parallel()
	b, _, site := setupSite(t, nil)
	page := "https://www.acme.example/pricing?plan=pro&nt=" + siteSigner.Site(7) + "#faq"
	res, body := b.do(t, "POST", "/t/view", "text/plain", viewBody(siteSigner.Site(7), page), "Origin", siteOrigin)
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != siteOrigin || !strings.Contains(res.Header.Get("Vary"), "Origin") {
		t.Fatalf("%d %v %s", res.StatusCode, res.Header, body)
	}
	want := SiteEvent{Lead: "7", Type: "page_view", URL: "https://www.acme.example/pricing?plan=pro", At: b.srv.cfg.Now(),
		IdempotencyKey: "site:7:abcdef0123456789", Source: "site"}
	if len(site.events) != 1 || site.events[0] != want {
		t.Fatalf("recorded %+v, want %+v", site.events, want)
	}
	// A port that is not the default is part of the host.
	if res, _ := b.do(t, "POST", "/t/view", "application/json", viewBody(siteSigner.Site(7), "https://shop.acme.example:8443/"), "Origin", "https://shop.acme.example:8443"); res.StatusCode != 204 {
		t.Errorf("shop host: %d", res.StatusCode)
	}
}

func TestSiteView_RefusesWhatIsNotAViewOfATrackedLead(t *testing.T) {
	t.Parallel()
	b, tr, site := setupSite(t, nil)
	good := siteSigner.Site(7)
	other := tracking.NewSigner([]byte(strings.Repeat("o", 32)))
	for _, tt := range []struct {
		name, body, origin string
		status             int
	}{
		{"other origin", viewBody(good, "https://www.acme.example/"), "https://evil.example", 403},
		{"origin on another port", viewBody(good, "https://www.acme.example/"), "https://www.acme.example:8443", 403},
		{"no origin", viewBody(good, "https://www.acme.example/"), "", 403},
		{"null origin", viewBody(good, "https://www.acme.example/"), "null", 403},
		{"page on another host", viewBody(good, "https://evil.example/"), siteOrigin, 400},
		{"not a page", viewBody(good, "javascript:alert(1)"), siteOrigin, 400},
		{"tampered reference", viewBody(good[:len(good)-2]+"AA", "https://www.acme.example/"), siteOrigin, 404},
		{"another server's reference", viewBody(other.Site(7), "https://www.acme.example/"), siteOrigin, 404},
		{"a click token", viewBody(siteSigner.Click(7, 1), "https://www.acme.example/"), siteOrigin, 404},
		{"unknown lead", viewBody(siteSigner.Site(8), "https://www.acme.example/"), siteOrigin, 404},
		{"not JSON", "nt=x", siteOrigin, 400},
	} {
		hdr := []string{}
		if tt.origin != "" {
			hdr = []string{"Origin", tt.origin}
		}
		res, body := b.do(t, "POST", "/t/view", "text/plain", tt.body, hdr...)
		if res.StatusCode != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, res.StatusCode, body, tt.status)
		}
		if tt.status == 403 && res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: Access-Control-Allow-Origin %q", tt.name, res.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	tr.state.Tracked = false
	if res, _ := b.do(t, "POST", "/t/view", "text/plain", viewBody(good, "https://www.acme.example/"), "Origin", siteOrigin); res.StatusCode != 410 {
		t.Errorf("an untracked lead: %d", res.StatusCode)
	}
	if len(site.events) != 0 {
		t.Errorf("recorded %+v", site.events)
	}
	tr.state.Tracked, site.err = true, errDatabaseAway
	if res, _ := b.do(t, "POST", "/t/view", "text/plain", viewBody(good, "https://www.acme.example/"), "Origin", siteOrigin); res.StatusCode != 503 {
		t.Errorf("recorder away: %d", res.StatusCode)
	}
}

func TestSiteView_PreflightOnlyForSiteHosts(t *testing.T) {
	t.Parallel()
	b, _, _ := setupSite(t, nil)
	res, _ := b.do(t, "OPTIONS", "/t/view", "", "", "Origin", siteOrigin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	h := res.Header
	if res.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != siteOrigin || h.Get("Access-Control-Allow-Methods") != "POST" ||
		!strings.EqualFold(h.Get("Access-Control-Allow-Headers"), "Content-Type") || h.Get("Access-Control-Max-Age") == "" {
		t.Errorf("allowed preflight: %d %v", res.StatusCode, h)
	}
	res, _ = b.do(t, "OPTIONS", "/t/view", "", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if res.StatusCode != 403 || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused preflight: %d %v", res.StatusCode, res.Header)
	}
}

func TestSiteView_RateLimitedPerIP(t *testing.T) {
	t.Parallel()
	b, _, site := setupSite(t, func(c *Config) { c.RatePerIP = 2 })
	body := viewBody(siteSigner.Site(7), "https://www.acme.example/")
	for i := range 3 {
		res, _ := b.do(t, "POST", "/t/view", "text/plain", body, "Origin", siteOrigin)
		want := 204
		if i == 2 {
			want = 429
		}
		if res.StatusCode != want || (want == 429 && res.Header.Get("Retry-After") == "") {
			t.Errorf("view %d: %d, Retry-After %q", i+1, res.StatusCode, res.Header.Get("Retry-After"))
		}
	}
	if len(site.events) != 2 {
		t.Errorf("recorded %d", len(site.events))
	}
	// Page views have a bucket of their own: the signups' is untouched.
	if res, _ := b.do(t, "POST", "/subscribe/news", formType, "email=a@example.com&consent_version=n1"); res.StatusCode != 200 {
		t.Errorf("a signup after the views: %d", res.StatusCode)
	}
}
