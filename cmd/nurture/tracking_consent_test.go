package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/token"
)

// Consent to open and click tracking (§ 25 TDDDG), through real HTTP, SMTP
// and Postgres: what a signup answers, what confirming applies, what the
// ledger keeps, and how a lead changes its mind later.

const (
	trackingText    = "Yes, Acme may see which of its mails I open and which links I click."
	trackingVersion = "acme-tracking-1"
	siteHost        = "www.acme.example"
)

// startTracking serves a folder whose default form, webinar, asks for
// tracking consent, and a site host for /t.js.
func startTracking(t *testing.T, env map[string]string) *harness {
	t.Helper()
	dir := writeCampaigns(t, map[string]string{"forms/webinar.md": "---\ntitle: Join the webinar\nsource: webinar\n" +
		"consent: Yes, invite me.\nconsent_version: w1\nfields: [first_name]\n" +
		"tracking:\n  text: " + trackingText + "\n  version: " + trackingVersion + "\n---\nOur monthly webinar.\n"})
	settings := map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_SITE_HOSTS": siteHost}
	for k, v := range env {
		settings[k] = v
	}
	return start(t, settings)
}

// trackingView is what the lead API shows of tracking.
type trackingView struct {
	Tracking struct {
		Consent bool   `json:"consent"`
		Tracked bool   `json:"tracked"`
		Mode    string `json:"mode"`
		Text    string `json:"text"`
		Version string `json:"version"`
	} `json:"tracking"`
	Ledger []struct {
		Kind            string `json:"kind"`
		At              string `json:"at"`
		IP              string `json:"ip"`
		UserAgent       string `json:"user_agent"`
		Tracking        *bool  `json:"tracking"`
		TrackingText    string `json:"tracking_text"`
		TrackingVersion string `json:"tracking_version"`
	} `json:"consent_ledger"`
}

func (h *harness) trackingOf(ref string) trackingView {
	h.t.Helper()
	res := h.do("GET", "/api/v1/leads/"+url.PathEscape(ref), "", nil, "Authorization", "Bearer "+adminToken)
	if res.status != 200 {
		h.t.Fatalf("lead %s: %d %s", ref, res.status, res.body)
	}
	var v trackingView
	if err := json.Unmarshal([]byte(res.body), &v); err != nil {
		h.t.Fatal(err)
	}
	return v
}

// leadTracking is leads.tracking as stored.
func (h *harness) leadTracking(email string) bool {
	h.t.Helper()
	var on bool
	if err := h.db().Get(&on, `SELECT tracking FROM leads WHERE email = $1`, email); err != nil {
		h.t.Fatal(err)
	}
	return on
}

// confirmNth confirms with the link of the n-th caught mail.
func (h *harness) confirmNth(t *testing.T, n int) {
	t.Helper()
	l := linkIn(t, h.waitMail(n))
	if res := h.do("POST", strings.TrimPrefix(l, h.base), "application/x-www-form-urlencoded", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
}

func TestTrackingConsent_APISignupAnswerAppliesOnConfirm(t *testing.T) {
	t.Parallel()
	h := startTracking(t, nil)
	yes, no := true, false
	cases := []struct {
		email    string
		tracking *bool
		want     bool
	}{
		{"yes@example.com", &yes, true},
		{"no@example.com", &no, false},
		{"unasked@example.com", nil, false},
	}
	for i, c := range cases {
		body := map[string]any{"email": c.email, "form": "webinar"}
		if c.tracking != nil {
			body["tracking"] = *c.tracking
		}
		if res := h.subscribeJSON(body); res.status != http.StatusAccepted {
			t.Fatalf("%s: %d %s", c.email, res.status, res.body)
		}
		if h.leadTracking(c.email) {
			t.Errorf("%s is tracked before confirming", c.email)
		}
		h.confirmNth(t, i+1)
		if got := h.leadTracking(c.email); got != c.want {
			t.Errorf("%s: tracking %v after confirming, want %v", c.email, got, c.want)
		}
		v := h.trackingOf(c.email)
		if v.Tracking.Consent != c.want || v.Tracking.Tracked != c.want || v.Tracking.Mode != "consent" {
			t.Errorf("%s: lead API tracking = %+v", c.email, v.Tracking)
		}
		if len(v.Ledger) != 2 || v.Ledger[0].Kind != "signup" || v.Ledger[1].Kind != "confirmation" {
			t.Fatalf("%s: ledger %+v", c.email, v.Ledger)
		}
		su := v.Ledger[0]
		switch {
		case c.tracking == nil && (su.Tracking != nil || su.TrackingText != "" || su.TrackingVersion != ""):
			t.Errorf("%s: a signup that was not asked records %+v", c.email, su)
		case c.tracking != nil && (su.Tracking == nil || *su.Tracking != *c.tracking || su.TrackingText != trackingText || su.TrackingVersion != trackingVersion):
			t.Errorf("%s: signup entry %+v, want tracking %v with the form's words", c.email, su, *c.tracking)
		}
		// Confirming applies the answer and writes nothing else new.
		if cf := v.Ledger[1]; cf.Tracking != nil || cf.TrackingText != "" {
			t.Errorf("%s: the confirmation entry records tracking: %+v", c.email, cf)
		}
	}
	// The form's tracking version is live: another wording under it is refused.
	res := h.subscribeJSON(map[string]any{"email": "x@example.com", "consent_text": "Yes.", "consent_version": "own-1",
		"source": "app", "tracking": true, "tracking_text": "Other words.", "tracking_version": trackingVersion})
	if res.status != 422 || !strings.Contains(res.body, "tracking_version") {
		t.Errorf("a second wording of %s: %d %s", trackingVersion, res.status, res.body)
	}
}

func TestTrackingConsent_APISignupRefusesWordsThatAreNotTheForms(t *testing.T) {
	t.Parallel()
	h := startTracking(t, nil)
	for _, tt := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"tracking": true, "tracking_version": "old-1"}, "tracking_version"},
		{map[string]any{"tracking": true, "tracking_text": "Something else."}, "tracking_text"},
		{map[string]any{"tracking": "yes"}, "tracking"},
		{map[string]any{"tracking_version": trackingVersion}, "tracking"},
	} {
		tt.body["email"], tt.body["form"] = "anna@example.com", "webinar"
		res := h.subscribeJSON(tt.body)
		var e struct{ Fields map[string]string }
		json.Unmarshal([]byte(res.body), &e)
		if res.status != 422 || e.Fields[tt.field] == "" {
			t.Errorf("%v: %d %s, want 422 on %s", tt.body, res.status, res.body, tt.field)
		}
	}
	// A form that asks nothing takes no yes.
	h2 := start(t, nil)
	res := h2.subscribeJSON(map[string]any{"email": "anna@example.com", "form": "webinar", "tracking": true})
	if res.status != 422 || !strings.Contains(res.body, "asks no consent to tracking") {
		t.Errorf("yes through a form without the question: %d %s", res.status, res.body)
	}
}

func TestTrackingConsent_FormCheckboxUncheckedByDefault(t *testing.T) {
	t.Parallel()
	h := startTracking(t, nil)
	page := h.do("GET", "/subscribe/webinar", "", nil)
	box := `<input type="checkbox" id="tracking" name="tracking" value="yes">`
	if page.status != 200 || !strings.Contains(page.body, box) || !strings.Contains(page.body, trackingText) ||
		!strings.Contains(page.body, `name="tracking_version" value="`+trackingVersion+`"`) {
		t.Fatalf("form page lacks the unchecked checkbox with its words:\n%s", page.body)
	}
	post := func(email string, checked bool) {
		t.Helper()
		f := url.Values{"email": {email}, "consent_version": {"w1"}, "tracking_version": {trackingVersion}}
		if checked {
			f.Set("tracking", "yes")
		}
		if res := h.do("POST", "/subscribe/webinar", "application/x-www-form-urlencoded", strings.NewReader(f.Encode())); res.status != 200 {
			t.Fatalf("form post: %d %s", res.status, res.body)
		}
	}
	post("checked@example.com", true)
	h.confirmNth(t, 1)
	post("unchecked@example.com", false)
	h.confirmNth(t, 2)
	if !h.leadTracking("checked@example.com") || h.leadTracking("unchecked@example.com") {
		t.Errorf("tracking: checked %v, unchecked %v", h.leadTracking("checked@example.com"), h.leadTracking("unchecked@example.com"))
	}
	if su := h.trackingOf("unchecked@example.com").Ledger[0]; su.Tracking == nil || *su.Tracking || su.TrackingVersion != trackingVersion {
		t.Errorf("an unchecked box records %+v, want a no with the words asked", su)
	}
	// A page shown before the question changed is refused, and shown as it is now.
	f := url.Values{"email": {"stale@example.com"}, "consent_version": {"w1"}, "tracking_version": {"acme-tracking-0"}, "tracking": {"yes"}}
	res := h.do("POST", "/subscribe/webinar", "application/x-www-form-urlencoded", strings.NewReader(f.Encode()))
	if res.status != 422 || !strings.Contains(res.body, "tracking_version") || !strings.Contains(res.body, `value="yes" checked`) {
		t.Errorf("stale tracking version: %d\n%s", res.status, res.body)
	}
}

// putTracking is PUT /api/v1/leads/{ref}/tracking.
func (h *harness) putTracking(ref, body string) response {
	h.t.Helper()
	return h.do("PUT", "/api/v1/leads/"+url.PathEscape(ref)+"/tracking", "application/json", strings.NewReader(body),
		"Authorization", "Bearer "+adminToken, "X-Forwarded-For", "198.51.100.7")
}

func TestTrackingConsent_PUTWithdrawsAndGrantsWithLedgerEntries(t *testing.T) {
	t.Parallel()
	h := startTracking(t, nil)
	if res := h.subscribeJSON(map[string]any{"email": "anna@example.com", "form": "webinar", "tracking": true}); res.status != 202 {
		t.Fatal(res.body)
	}
	h.confirmNth(t, 1)
	if res := h.putTracking("anna@example.com", `{"tracking": false}`); res.status != 200 || !strings.Contains(res.body, `"changed": true`) {
		t.Fatalf("withdraw: %d %s", res.status, res.body)
	}
	if h.leadTracking("anna@example.com") {
		t.Fatal("still tracked after the withdrawal")
	}
	// Again: nothing changes, nothing is written.
	if res := h.putTracking("anna@example.com", `{"tracking": false}`); res.status != 200 || !strings.Contains(res.body, `"changed": false`) {
		t.Fatalf("withdraw again: %d %s", res.status, res.body)
	}
	// A grant without words takes those of the lead's form.
	if res := h.putTracking("anna@example.com", `{"tracking": true}`); res.status != 200 || !strings.Contains(res.body, `"changed": true`) {
		t.Fatalf("grant: %d %s", res.status, res.body)
	}
	v := h.trackingOf("anna@example.com")
	if len(v.Ledger) != 4 {
		t.Fatalf("ledger %+v, want signup, confirmation, withdrawal, grant", v.Ledger)
	}
	wd, gr := v.Ledger[2], v.Ledger[3]
	if wd.Kind != "tracking_withdrawn" || wd.Tracking == nil || *wd.Tracking || wd.TrackingVersion != trackingVersion ||
		wd.UserAgent != "journey-test/1.0" || wd.At == "" || wd.IP == "" {
		t.Errorf("withdrawal entry %+v", wd)
	}
	if gr.Kind != "tracking_granted" || gr.Tracking == nil || !*gr.Tracking || gr.TrackingText != trackingText || gr.TrackingVersion != trackingVersion {
		t.Errorf("grant entry %+v", gr)
	}
	if !v.Tracking.Consent || !v.Tracking.Tracked || v.Tracking.Version != trackingVersion {
		t.Errorf("lead API tracking %+v", v.Tracking)
	}
	for _, bad := range []struct {
		body   string
		status int
	}{{`{}`, 400}, {`{"tracking": "no"}`, 400}, {`{"tracking": true, "tracking_text": "Only words."}`, 422}} {
		if res := h.putTracking("anna@example.com", bad.body); res.status != bad.status {
			t.Errorf("%s: %d %s, want %d", bad.body, res.status, res.body, bad.status)
		}
	}
	if res := h.putTracking("nobody@example.com", `{"tracking": false}`); res.status != 404 {
		t.Errorf("unknown lead: %d", res.status)
	}
	if res := h.do("PUT", "/api/v1/leads/anna@example.com/tracking", "application/json", strings.NewReader(`{"tracking": false}`)); res.status != 401 {
		t.Errorf("no token: %d", res.status)
	}
	// A lead that has not confirmed gets its answer from its confirmation.
	h.subscribeJSON(map[string]any{"email": "ben@example.com", "form": "webinar"})
	if res := h.putTracking("ben@example.com", `{"tracking": true}`); res.status != 409 {
		t.Errorf("grant to a pending lead: %d %s", res.status, res.body)
	}
}

func TestTrackingConsent_FooterPageGETChangesNothingPOSTActs(t *testing.T) {
	t.Parallel()
	h := startTracking(t, nil)
	h.subscribeJSON(map[string]any{"email": "anna@example.com", "form": "webinar", "tracking": true})
	h.confirmNth(t, 1)
	id := h.lead("anna@example.com").ID
	path := strings.TrimPrefix(link.New(h.cfg.BaseURL, token.NewSigner(h.cfg.Secret), "").Tracking(id), h.base)

	page := h.do("GET", path, "", nil)
	if page.status != 200 || !strings.Contains(page.body, "anna@example.com") || !strings.Contains(page.body, `name="tracking" value="no"`) {
		t.Fatalf("page: %d\n%s", page.status, page.body)
	}
	if !h.leadTracking("anna@example.com") || len(h.trackingOf("anna@example.com").Ledger) != 2 {
		t.Fatal("GET changed the consent")
	}
	form := func(v url.Values) response {
		return h.do("POST", path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	}
	if res := form(url.Values{"tracking": {"no"}}); res.status != 200 || !strings.Contains(res.body, "withdrawn") {
		t.Fatalf("withdraw: %d\n%s", res.status, res.body)
	}
	if h.leadTracking("anna@example.com") {
		t.Fatal("still tracked")
	}
	// The page now offers the form's question, unchecked until pressed.
	page = h.do("GET", path, "", nil)
	if !strings.Contains(page.body, trackingText) || !strings.Contains(page.body, `name="tracking_version" value="`+trackingVersion+`"`) {
		t.Fatalf("page after withdrawal:\n%s", page.body)
	}
	if res := form(url.Values{"tracking": {"yes"}, "tracking_version": {"acme-tracking-0"}}); res.status != 422 || h.leadTracking("anna@example.com") {
		t.Errorf("grant of a question no longer asked: %d, tracked %v", res.status, h.leadTracking("anna@example.com"))
	}
	if res := form(url.Values{"tracking": {"yes"}, "tracking_version": {trackingVersion}}); res.status != 200 || !h.leadTracking("anna@example.com") {
		t.Fatalf("grant: %d\n%s", res.status, res.body)
	}
	var kinds []string
	for _, e := range h.trackingOf("anna@example.com").Ledger {
		kinds = append(kinds, e.Kind)
		if strings.HasPrefix(e.Kind, "tracking_") && (e.IP != "127.0.0.1" || e.UserAgent != "journey-test/1.0") {
			t.Errorf("%s without its evidence: %+v", e.Kind, e)
		}
	}
	if got := strings.Join(kinds, ","); got != "signup,confirmation,tracking_withdrawn,tracking_granted" {
		t.Errorf("ledger %s", got)
	}
	if res := h.do("GET", "/tracking/AAAA.bm9wZQ", "", nil); res.status != 404 {
		t.Errorf("tampered token: %d", res.status)
	}
}
