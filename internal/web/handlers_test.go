package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/optin"
	"github.com/nurture/nurture/internal/ratelimit"
)

const formType = "application/x-www-form-urlencoded"

func TestSubscribeJSON_RecordsTheFormsSourceAndConsentWithTheEvidence(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	res, body := b.do(t, "POST", "/api/v1/subscribe", "application/json",
		`{"email": "anna@example.com", "first_name": "Anna", "form": "news", "source_url": "https://acme.example/blog", "attributes": {"company": "Acme"}}`,
		"User-Agent", "test-agent")
	if res.StatusCode != http.StatusAccepted || !strings.Contains(body, "accepted") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("no CORS header on the API's answer")
	}
	if len(b.optin.signups) != 1 {
		t.Fatalf("signups = %v", b.optin.signups)
	}
	su, ev := b.optin.signups[0], b.optin.evidence[0]
	if su.Email != "anna@example.com" || su.FirstName != "Anna" || su.Source != "news" ||
		su.ConsentText != "Send me the news." || su.ConsentVersion != "n1" || su.Attributes.String("company") != "Acme" {
		t.Errorf("signup = %+v", su)
	}
	if ev.IP != "127.0.0.1" || ev.UserAgent != "test-agent" || ev.SourceURL != "https://acme.example/blog" {
		t.Errorf("evidence = %+v", ev)
	}
}

func TestSubscribeJSON_ServiceErrorsMapToStatuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"invalid field", lead.FieldErrors{"email": "is not a valid email address"}, 422, `"email": "is not a valid email address"`},
		{"per-address limit", &ratelimit.Limited{Err: optin.ErrRateLimited, After: 90 * time.Second}, 429, "too many requests"},
		{"database away", errDatabaseAway, 503, "try again"},
		{"anything else", errors.New("optin: boom"), 500, "internal error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupHandlers(t, nil)
			b.optin.subscribeErr = tt.err
			res, body := b.do(t, "POST", "/api/v1/subscribe", "application/json", `{"email": "anna@example.com", "form": "news"}`)
			if res.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %s; want %d with %q", res.StatusCode, body, tt.status, tt.want)
			}
			if strings.Contains(body, "boom") || strings.Contains(body, "optin:") {
				t.Errorf("the body repeats the internal error: %s", body)
			}
			if tt.status == 429 && res.Header.Get("Retry-After") != "90" {
				t.Errorf("Retry-After = %q, want the limit's 90", res.Header.Get("Retry-After"))
			}
		})
	}
}

func TestSubscribeJSON_OwnConsentIsKeptBeforeTheSignup(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	req := `{"email": "anna@example.com", "source": "app", "consent_text": "Mail me.", "consent_version": "app-1"}`
	if res, body := b.do(t, "POST", "/api/v1/subscribe", "application/json", req); res.StatusCode != 202 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if len(b.optin.kept) != 1 || b.optin.kept[0].ConsentVersion != "app-1" || b.optin.signups[0].Source != "app" {
		t.Errorf("kept %+v, signed up %+v", b.optin.kept, b.optin.signups)
	}

	b.optin.keepErr = lead.FieldErrors{"consent_version": "names another wording already"}
	res, body := b.do(t, "POST", "/api/v1/subscribe", "application/json", req)
	if res.StatusCode != 422 || !strings.Contains(body, "another wording") || len(b.optin.signups) != 1 {
		t.Fatalf("%d %s, %d signups; want 422 and no second signup", res.StatusCode, body, len(b.optin.signups))
	}
}

func TestSubscribeJSON_FormsAndFieldsThatAreNotTheForms(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	for _, tt := range []struct{ body, field, want string }{
		{`{"email": "a@example.com", "form": "nope"}`, "form", `there is no form \"nope\" (there are: news)`},
		{`{"email": "a@example.com", "form": "news", "source": "elsewhere"}`, "source", "records the source"},
		{`{"email": "a@example.com", "form": "news", "consent_version": "n0"}`, "consent_version", "version \\\"n1\\\" now"},
		{`{"email": "a@example.com", "first_name": 5}`, "first_name", "must be text, not a number"},
	} {
		res, body := b.do(t, "POST", "/api/v1/subscribe", "application/json", tt.body)
		if res.StatusCode != 422 || !strings.Contains(body, `"`+tt.field+`"`) || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s; want 422 on %s saying %s", tt.body, res.StatusCode, body, tt.field, tt.want)
		}
	}
	if len(b.optin.signups) != 0 {
		t.Errorf("refused bodies reached the service: %+v", b.optin.signups)
	}
	// Without a default form, a signup must name a form or bring a consent.
	none := setupHandlers(t, func(c *Config) { c.Forms = nil })
	if res, body := none.do(t, "POST", "/api/v1/subscribe", "application/json", `{"email": "a@example.com"}`); res.StatusCode != 422 || !strings.Contains(body, "consent_text") {
		t.Errorf("no form: %d %s", res.StatusCode, body)
	}
}

func TestSubscribeJSON_BadBodiesAre400(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	for _, body := range []string{``, `{"email": `, `{"email": "a@example.com"} {}`, `[1]`, `{"challenge": {}}`} {
		if res, got := b.do(t, "POST", "/api/v1/subscribe", "application/json", body); res.StatusCode != 400 {
			t.Errorf("%q: %d %s, want 400", body, res.StatusCode, got)
		}
	}
}

func TestSubscribeForm_ThanksWithTheCheckInboxPage(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	form := url.Values{"email": {"anna@example.com"}, "first_name": {"Anna"}, "consent_version": {"n1"}, "attributes.company": {"Acme"}}
	res, body := b.do(t, "POST", "/subscribe/news", formType, form.Encode())
	if res.StatusCode != 200 || !strings.Contains(body, "Check your inbox") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if len(b.optin.signups) != 1 || b.optin.signups[0].Attributes.String("company") != "Acme" || b.optin.signups[0].Source != "news" {
		t.Errorf("signups = %+v", b.optin.signups)
	}
	// The default form takes POST /subscribe too.
	if res, _ := b.do(t, "POST", "/subscribe", formType, form.Encode()); res.StatusCode != 200 || len(b.optin.signups) != 2 {
		t.Errorf("POST /subscribe: %d, %d signups", res.StatusCode, len(b.optin.signups))
	}
}

func TestSubscribeForm_HoneypotThanksAndDropsTheSignup(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	form := url.Values{"email": {"bot@example.com"}, "consent_version": {"n1"}, honeypot: {"http://spam.example"}}
	res, body := b.do(t, "POST", "/subscribe/news", formType, form.Encode())
	if res.StatusCode != 200 || !strings.Contains(body, "Check your inbox") || len(b.optin.signups) != 0 {
		t.Fatalf("%d, %d signups: %s", res.StatusCode, len(b.optin.signups), body)
	}
}

func TestSubscribeForm_RedirectsOnlyWhereTheSiteAllows(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, func(c *Config) { c.RedirectHosts = []string{"thanks.example"} })
	post := func(redirect, origin string) *http.Response {
		form := url.Values{"email": {"anna@example.com"}, "consent_version": {"n1"}, "redirect": {redirect}}
		res, _ := b.do(t, "POST", "/subscribe/news", formType, form.Encode(), "Origin", origin)
		return res
	}
	for _, tt := range []struct {
		redirect, origin, want string
	}{
		{"https://blog.example/thanks", "https://blog.example", "https://blog.example/thanks"}, // the posting site
		{"https://thanks.example/done", "https://blog.example", "https://thanks.example/done"}, // an allowed host
		{"https://nurture.test/x", "null", "https://nurture.test/x"},                           // the base URL's host
		{"https://evil.example/", "https://blog.example", ""},
		{"javascript:alert(1)", "https://blog.example", ""},
	} {
		res := post(tt.redirect, tt.origin)
		if got := res.Header.Get("Location"); got != tt.want || (tt.want == "") != (res.StatusCode == 200) {
			t.Errorf("redirect %q from %s: %d to %q, want %q", tt.redirect, tt.origin, res.StatusCode, got, tt.want)
		}
	}
}

func TestSubscribeForm_InvalidFieldShowsTheFilledFormAgain(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	b.optin.subscribeErr = lead.FieldErrors{"email": "is not a valid email address"}
	form := url.Values{"email": {"anna@example.com"}, "first_name": {"Anna"}, "consent_version": {"n1"}, "utm_campaign": {"autumn"}}
	res, body := b.do(t, "POST", "/subscribe/news", formType, form.Encode())
	if res.StatusCode != 422 || !strings.Contains(body, "is not a valid email address") || !strings.Contains(body, `value="Anna"`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if !strings.Contains(body, `name="utm_campaign"`) {
		t.Errorf("a posted field the page has no input for is not carried: %s", body)
	}
	// A stale consent version never reaches the service.
	form.Set("consent_version", "n0")
	if res, body := b.do(t, "POST", "/subscribe/news", formType, form.Encode()); res.StatusCode != 422 || !strings.Contains(body, "n1") || len(b.optin.signups) != 1 {
		t.Errorf("stale version: %d, %d signups: %s", res.StatusCode, len(b.optin.signups), body)
	}
}

func TestSubscribePages_ShowTheFormOr404(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	for path, want := range map[string]int{"/subscribe": 200, "/subscribe/news": 200, "/subscribe/news/embed": 200, "/subscribe/embed": 200, "/subscribe/nope": 404} {
		res, body := b.do(t, "GET", path, "", "")
		if res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
		if want == 200 && !strings.Contains(body, "Send me the news.") {
			t.Errorf("GET %s shows no consent: %s", path, body)
		}
	}
	if res, _ := b.do(t, "POST", "/subscribe/nope", formType, "email=a%40example.com"); res.StatusCode != 404 {
		t.Errorf("POST to a missing form: %d", res.StatusCode)
	}
}

func TestConfirmPage_ShowsTheButtonOrWhyNot(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		state  optin.ConfirmState
		err    error
		status int
		want   string
	}{
		{"pending", optin.ConfirmState{}, nil, 200, `action="/confirm/tok"`},
		{"confirmed", optin.ConfirmState{Confirmed: true}, nil, 200, "Already confirmed"},
		{"unknown", optin.ConfirmState{}, optin.ErrNotFound, 404, "Link not found"},
		{"expired", optin.ConfirmState{}, optin.ErrExpired, 410, `action="/confirm/tok/resend"`},
		{"revoked", optin.ConfirmState{}, optin.ErrRevoked, 410, "no longer valid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupHandlers(t, nil)
			b.optin.state, b.optin.checkErr = tt.state, tt.err
			res, body := b.do(t, "GET", "/confirm/tok", "", "")
			if res.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %s; want %d with %q", res.StatusCode, body, tt.status, tt.want)
			}
			if len(b.optin.confirmed) != 0 {
				t.Error("a GET confirmed")
			}
			if res.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("Referrer-Policy %q on a page whose URL holds a token", res.Header.Get("Referrer-Policy"))
			}
		})
	}
}

func TestConfirm_POSTConfirmsOnce(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	if res, body := b.do(t, "POST", "/confirm/tok", formType, ""); res.StatusCode != 200 || !strings.Contains(body, "You're in!") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	b.optin.already = true
	if res, body := b.do(t, "POST", "/confirm/tok", formType, ""); res.StatusCode != 200 || !strings.Contains(body, "Already confirmed") {
		t.Fatalf("second: %d %s", res.StatusCode, body)
	}
	b.optin.confirmErr = optin.ErrExpired
	if res, _ := b.do(t, "POST", "/confirm/tok", formType, ""); res.StatusCode != 410 {
		t.Fatalf("expired: %d", res.StatusCode)
	}
	if strings.Join(b.optin.confirmed, ",") != "tok,tok,tok" {
		t.Errorf("confirmed %v", b.optin.confirmed)
	}
}

func TestResend_SharesThePerIPLimit(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, func(c *Config) { c.RatePerIP = 1 })
	if res, body := b.do(t, "POST", "/confirm/tok/resend", formType, ""); res.StatusCode != 200 || !strings.Contains(body, "a new confirmation mail") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	res, _ := b.do(t, "POST", "/api/v1/subscribe", "application/json", `{"email": "a@example.com", "form": "news"}`)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("a signup after the resend: %d, Retry-After %q; want 429", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if len(b.optin.resent) != 1 || len(b.optin.signups) != 0 {
		t.Errorf("resent %v, signups %v", b.optin.resent, b.optin.signups)
	}
	b2 := setupHandlers(t, nil)
	b2.optin.resendErr = optin.ErrRevoked
	if res, body := b2.do(t, "POST", "/confirm/tok/resend", formType, ""); res.StatusCode != 410 || !strings.Contains(body, "no longer valid") {
		t.Errorf("revoked: %d %s", res.StatusCode, body)
	}
}

func TestUnsubscribe_PageThenOneClick(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	if res, _ := b.do(t, "GET", "/unsubscribe/tok", "", ""); res.StatusCode != 404 {
		t.Fatalf("an unknown link: %d", res.StatusCode)
	}
	b.optin.email = "anna@example.com"
	res, body := b.do(t, "GET", "/unsubscribe/tok", "", "")
	if res.StatusCode != 200 || !strings.Contains(body, "anna@example.com") || !strings.Contains(body, `action="/unsubscribe/tok"`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if len(b.optin.unsubbed) != 0 {
		t.Fatal("a GET unsubscribed")
	}
	// RFC 8058: a POST without cookies from a mail client.
	if res, body := b.do(t, "POST", "/unsubscribe/tok", formType, "List-Unsubscribe=One-Click"); res.StatusCode != 200 || !strings.Contains(body, "unsubscribed") {
		t.Fatalf("POST: %d %s", res.StatusCode, body)
	}
	b.optin.unsubscribeErr = errDatabaseAway
	if res, _ := b.do(t, "POST", "/unsubscribe/tok", formType, ""); res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Errorf("database away: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

func TestAdmin_NeedsTheBearerToken(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	b.optin.leads["7"] = &optin.Detail{Lead: &lead.Lead{ID: 7, Email: "anna@example.com"}}
	for _, auth := range []string{"", "Bearer wrong", "Basic " + testToken, testToken} {
		res, body := b.do(t, "GET", "/api/v1/leads/7", "", "", "Authorization", auth)
		if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") == "" || strings.Contains(body, "anna") {
			t.Errorf("Authorization %q: %d %s", auth, res.StatusCode, body)
		}
	}
	if res, _ := b.do(t, "GET", "/api/v1/leads/7", "", "", "Authorization", "bearer "+testToken); res.StatusCode != 200 {
		t.Errorf("the scheme is case-insensitive: %d", res.StatusCode)
	}
	none := setupHandlers(t, func(c *Config) { c.AdminToken = "" })
	if res, _ := none.do(t, "GET", "/api/v1/leads/7", "", "", "Authorization", "Bearer "); res.StatusCode != 401 {
		t.Errorf("without an admin token set, an empty one passed: %d", res.StatusCode)
	}
}

func TestLeadAPI_LooksUpAndErases(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	b.optin.leads["anna@example.com"] = &optin.Detail{Lead: &lead.Lead{ID: 7, Email: "anna@example.com", Status: lead.StatusConfirmed}, Ledger: []lead.ConsentEvent{{Kind: lead.EventSignup}}}
	res, body := b.admin(t, "GET", "/api/v1/leads/anna@example.com", "")
	var got struct {
		ID     int64             `json:"id"`
		Status string            `json:"status"`
		Ledger []json.RawMessage `json:"consent_ledger"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != 200 || got.ID != 7 || got.Status != "confirmed" || len(got.Ledger) != 1 {
		t.Fatalf("%d %s (%v)", res.StatusCode, body, err)
	}
	if res, _ := b.admin(t, "DELETE", "/api/v1/leads/anna@example.com", ""); res.StatusCode != 204 || len(b.optin.erased) != 1 || b.optin.erased[0] != 7 {
		t.Fatalf("erase: %d, erased %v", res.StatusCode, b.optin.erased)
	}
	for _, method := range []string{"GET", "DELETE"} {
		if res, body := b.admin(t, method, "/api/v1/leads/nobody@example.com", ""); res.StatusCode != 404 || !strings.Contains(body, `"not found"`) {
			t.Errorf("%s of a missing lead: %d %s", method, res.StatusCode, body)
		}
	}
}

func TestSequenceAPI_StagesAndEnrolments(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	b.optin.leads["7"] = &optin.Detail{Lead: &lead.Lead{ID: 7}}
	b.optin.leads["anna@example.com"] = b.optin.leads["7"]
	b.seq.change = dispatch.StageChange{From: lead.StageLead, Enrolled: 1}
	res, body := b.admin(t, "PUT", "/api/v1/leads/7/stage", `{"stage": "mql"}`)
	if res.StatusCode != 200 || !strings.Contains(body, `"stage": "mql"`) || !strings.Contains(body, `"from": "lead"`) || !strings.Contains(body, `"enrolled": 1`) {
		t.Fatalf("stage: %d %s", res.StatusCode, body)
	}
	if res, body := b.admin(t, "PUT", "/api/v1/leads/7/stage", `{}`); res.StatusCode != 400 {
		t.Errorf("no stage: %d %s", res.StatusCode, body)
	}
	due := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	b.seq.enrol = lead.Enrolment{ID: 3, State: lead.EnrolmentActive, StepsDone: []string{"hello"}, DueAt: due, EnrolledAt: due}
	res, body = b.admin(t, "POST", "/api/v1/sequences/welcome/enrolments", `{"lead": "anna@example.com"}`)
	var e map[string]any
	if err := json.Unmarshal([]byte(body), &e); err != nil || res.StatusCode != 201 {
		t.Fatalf("enrol: %d %s", res.StatusCode, body)
	}
	if e["id"] != 3.0 || e["lead_id"] != 7.0 || e["sequence"] != "welcome" || e["state"] != "active" ||
		fmt.Sprint(e["steps_done"]) != "[hello]" || e["due_at"] != "2026-11-03T09:00:00Z" {
		t.Errorf("enrolment = %v", e)
	}
	if _, ok := e["ended_at"]; ok {
		t.Errorf("an active enrolment shows ended_at: %v", e)
	}
	if res, _ := b.admin(t, "POST", "/api/v1/sequences/welcome/enrolments", `{"lead": 7}`); res.StatusCode != 201 {
		t.Errorf("enrol by id: %d", res.StatusCode)
	}
}

func TestSequenceAPI_ServiceErrorsMapToStatuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err    error
		status int
		want   string
	}{
		{dispatch.ErrInvalidStage, 422, "stage must be one of"},
		{dispatch.ErrNotEnrolled, 409, "not enrolled"},
		{dispatch.ErrNotFound, 404, "not found"},
	} {
		b := setupHandlers(t, nil)
		b.optin.leads["7"] = &optin.Detail{Lead: &lead.Lead{ID: 7}}
		b.seq.err = tt.err
		for _, call := range [][3]string{
			{"PUT", "/api/v1/leads/7/stage", `{"stage": "x"}`},
			{"POST", "/api/v1/sequences/welcome/enrolments", `{"lead": 7}`},
		} {
			if res, body := b.admin(t, call[0], call[1], call[2]); res.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("%v with %v: %d %s; want %d", call, tt.err, res.StatusCode, body, tt.status)
			}
		}
	}
}

func TestAPIIndex_ListsWhatIsServed(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, func(c *Config) { c.Version = "1.2.3" })
	for _, path := range []string{"/api/v1", "/api/v1/"} {
		res, body := b.do(t, "GET", path, "", "")
		if res.StatusCode != 200 || !strings.Contains(body, `"version": "1.2.3"`) || !strings.Contains(body, "/api/v1/sequences/{sequence}/enrolments") {
			t.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
	}
	bare := setupHandlers(t, func(c *Config) { c.Sequences, c.Engage = nil, nil })
	if _, body := bare.do(t, "GET", "/api/v1", "", ""); strings.Contains(body, "enrolments") || !strings.Contains(body, `"dev"`) {
		t.Errorf("without a sequence engine: %s", body)
	}
	if res, _ := bare.admin(t, "POST", "/api/v1/leads/7/events", `{"type": "x"}`); res.StatusCode != 404 {
		t.Errorf("an event without the engagement service: %d", res.StatusCode)
	}
}

func TestRouting_APIAnswersJSONForNoRouteAndNoMethod(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	res, body := b.do(t, "GET", "/api/v1/subscribe", "", "")
	if res.StatusCode != 405 || !strings.Contains(res.Header.Get("Allow"), "POST") || !strings.Contains(body, "does not take that method") {
		t.Errorf("405: %d %q %s", res.StatusCode, res.Header.Get("Allow"), body)
	}
	if res, body := b.do(t, "GET", "/api/v1/nope", "", ""); res.StatusCode != 404 || !strings.Contains(body, "GET /api/v1 lists them") {
		t.Errorf("404: %d %s", res.StatusCode, body)
	}
	if res, _ := b.do(t, "GET", "/", "", ""); res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/subscribe" {
		t.Errorf("/: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = b.do(t, "OPTIONS", "/api/v1/subscribe", "", "")
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Methods") != "POST" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}
}

func TestHandler_OversizedBodyIs413(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, func(c *Config) { c.MaxBody = 100 })
	big := `{"email": "` + strings.Repeat("a", 200) + `@example.com"}`
	if res, body := b.do(t, "POST", "/api/v1/subscribe", "application/json", big); res.StatusCode != 413 || !strings.Contains(body, "too large") {
		t.Errorf("API: %d %s", res.StatusCode, body)
	}
	if res, _ := b.do(t, "POST", "/subscribe/news", formType, "email="+strings.Repeat("a", 200)); res.StatusCode != 413 {
		t.Errorf("form: %d", res.StatusCode)
	}
	if len(b.optin.signups) != 0 {
		t.Errorf("oversized posts reached the service")
	}
}

func TestClientIP_BelievesOnlyTrustedProxies(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	b.do(t, "POST", "/api/v1/subscribe", "application/json", `{"email": "a@example.com", "form": "news"}`, "X-Forwarded-For", "203.0.113.9")
	trusting := setupHandlers(t, func(c *Config) { c.TrustedProxies = []netipPrefix{mustPrefix("127.0.0.0/8")} })
	trusting.do(t, "POST", "/api/v1/subscribe", "application/json", `{"email": "a@example.com", "form": "news"}`, "X-Forwarded-For", "198.51.100.1, 203.0.113.9")
	if got := b.optin.evidence[0].IP; got != "127.0.0.1" {
		t.Errorf("an untrusted peer's X-Forwarded-For was believed: %s", got)
	}
	if got := trusting.optin.evidence[0].IP; got != "203.0.113.9" {
		t.Errorf("behind a trusted proxy: %s, want the rightmost untrusted hop", got)
	}
}

type netipPrefix = netip.Prefix

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
