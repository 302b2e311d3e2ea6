package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/nurture/nurture/internal/tracking"
)

// The site script and the page views it reports, through real HTTP and
// Postgres, for leads whose consent the signup recorded.

func TestSiteScript_ServedAsCachedJavaScript(t *testing.T) {
	t.Parallel()
	h := startTracking(t, nil)
	res := h.do("GET", "/t.js", "", nil)
	if res.status != 200 || res.header.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		res.header.Get("Cache-Control") != "public, max-age=3600" || !strings.Contains(res.body, "/t/view") ||
		!strings.Contains(res.body, "history.replaceState") {
		t.Fatalf("t.js: %d %v\n%s", res.status, res.header, res.body)
	}
	etag := res.header.Get("ETag")
	if again := h.do("GET", "/t.js", "", nil, "If-None-Match", etag); etag == "" || again.status != 304 {
		t.Errorf("If-None-Match %q: %d", etag, again.status)
	}
}

func TestSiteView_RecordsPageViewsOfTrackedLeadsFromSiteHosts(t *testing.T) {
	t.Parallel()
	h := startTracking(t, nil)
	h.subscribeJSON(map[string]any{"email": "anna@example.com", "form": "webinar", "tracking": true})
	h.confirmNth(t, 1)
	h.subscribeJSON(map[string]any{"email": "ben@example.com", "form": "webinar", "tracking": false})
	h.confirmNth(t, 2)
	anna, ben := h.lead("anna@example.com").ID, h.lead("ben@example.com").ID
	signer := tracking.NewSigner(h.cfg.Secret)
	origin := "https://" + siteHost
	view := func(nt, origin string) response {
		t.Helper()
		body := `{"nt": "` + nt + `", "url": "https://` + siteHost + `/pricing?plan=pro", "id": "0123456789abcdef"}`
		hdr := []string{}
		if origin != "" {
			hdr = append(hdr, "Origin", origin)
		}
		return h.do("POST", "/t/view", "text/plain", strings.NewReader(body), hdr...)
	}
	views := func(id int64) int {
		var n int
		if err := h.db().Get(&n, `SELECT count(*) FROM events WHERE lead_id = $1 AND type = 'page_view'`, id); err != nil {
			t.Fatal(err)
		}
		return n
	}
	res := view(signer.Site(anna), origin)
	if res.status != 204 || res.header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("view: %d %v %s", res.status, res.header, res.body)
	}
	if views(anna) != 1 {
		t.Fatalf("anna has %d page views, want 1", views(anna))
	}
	for _, tt := range []struct {
		name, nt, origin string
		status           int
	}{
		{"tampered nt", signer.Site(anna)[:10] + "x", origin, 404},
		{"an open token", signer.Open(anna), origin, 404},
		{"untracked lead", signer.Site(ben), origin, 410},
		{"other origin", signer.Site(anna), "https://evil.example", 403},
		{"no origin", signer.Site(anna), "", 403},
	} {
		res := view(tt.nt, tt.origin)
		if res.status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, res.status, res.body, tt.status)
		}
		if tt.status == 403 && res.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: allowed origin %q", tt.name, res.header.Get("Access-Control-Allow-Origin"))
		}
	}
	if views(anna) != 1 || views(ben) != 0 {
		t.Errorf("page views after refused reports: anna %d, ben %d", views(anna), views(ben))
	}
	pre := h.do("OPTIONS", "/t/view", "", nil, "Origin", origin, "Access-Control-Request-Method", "POST")
	if pre.status != 204 || pre.header.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(pre.header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight: %d %v", pre.status, pre.header)
	}
	if pre := h.do("OPTIONS", "/t/view", "", nil, "Origin", "https://evil.example"); pre.status != 403 || pre.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight of another origin: %d %v", pre.status, pre.header)
	}
	// A withdrawal stops the views at once.
	h.putTracking(strconv.FormatInt(anna, 10), `{"tracking": false}`)
	if res := view(signer.Site(anna), origin); res.status != 410 {
		t.Errorf("view after withdrawal: %d", res.status)
	}
}

func TestSiteView_TrackingOffRecordsNoView(t *testing.T) {
	t.Parallel()
	h := startTracking(t, map[string]string{"NURTURE_TRACKING": "off"})
	h.subscribeJSON(map[string]any{"email": "anna@example.com", "form": "webinar", "tracking": true})
	h.confirmNth(t, 1)
	id := h.lead("anna@example.com").ID
	// The consent is recorded under every mode; off tracks no one.
	if !h.leadTracking("anna@example.com") || h.trackingOf("anna@example.com").Tracking.Tracked {
		t.Errorf("consent %v, tracked %v", h.leadTracking("anna@example.com"), h.trackingOf("anna@example.com").Tracking.Tracked)
	}
	body := `{"nt": "` + tracking.NewSigner(h.cfg.Secret).Site(id) + `", "url": "https://` + siteHost + `/"}`
	if res := h.do("POST", "/t/view", "text/plain", strings.NewReader(body), "Origin", "https://"+siteHost); res.status != 410 {
		t.Errorf("view with tracking off: %d %s", res.status, res.body)
	}
}
