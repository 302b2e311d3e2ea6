package main

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fieldErrors is a 422's body.
func fieldErrors(t *testing.T, res response) map[string]string {
	t.Helper()
	var body struct {
		Error  string            `json:"error"`
		Fields map[string]string `json:"fields"`
	}
	if err := json.Unmarshal([]byte(res.body), &body); err != nil {
		t.Fatalf("%d %q: %v", res.status, res.body, err)
	}
	return body.Fields
}

// noLead fails t when the address got a lead or a mail.
func (h *harness) noLead(t *testing.T, email string) {
	t.Helper()
	res := h.do("GET", "/api/v1/leads/"+url.PathEscape(email), "", nil, "Authorization", "Bearer "+adminToken)
	if res.status != 404 {
		t.Errorf("%s was stored: %d %s", email, res.status, res.body)
	}
	if n := countMessages(t, h, email); n != 0 {
		t.Errorf("%s was mailed %d times", email, n)
	}
}

const rawSignup = `{"email": "%s", "consent_text": "Yes, send me mail.", "consent_version": "v1"%s}`

func rawJSON(email, more string) string {
	return strings.Replace(strings.Replace(rawSignup, "%s", email, 1), "%s", more, 1)
}

func TestSubscribe_InvalidUTF8InJSONIs422NamingTheField(t *testing.T) {
	h := start(t, nil)
	tests := []struct{ email, more, field string }{
		{"anna@example.com", `, "first_name": "An` + "\xff" + `na"`, "first_name"},
		{"bert@example.com", `, "last_name": "` + "\xc3" + `"`, "last_name"},
		{"carl@example.com", `, "attributes": {"company": "Acme ` + "\xfe" + `"}`, "attributes.company"},
		{"dora@example.com", `, "attributes": {"tags": ["ok", "` + "\xff" + `"]}`, "attributes.tags"},
		{"emil@example.com", `, "attributes": {"comp` + "\xff" + `any": "Acme"}`, "attributes.comp\uFFFDany"},
		{"frau\xffke@example.com", ``, "email"},
	}
	for _, tt := range tests {
		res := h.do("POST", "/api/v1/subscribe", "application/json", strings.NewReader(rawJSON(tt.email, tt.more)))
		if res.status != 422 {
			t.Errorf("%s: %d %s", tt.field, res.status, res.body)
			continue
		}
		if got := fieldErrors(t, res)[tt.field]; got != "must be valid UTF-8 text" {
			t.Errorf("%s: fields %s", tt.field, res.body)
		}
		h.noLead(t, strings.ToValidUTF8(tt.email, ""))
	}
	// The same name, as valid UTF-8, is welcome.
	if res := h.do("POST", "/api/v1/subscribe", "application/json", strings.NewReader(rawJSON("anna@example.com", `, "first_name": "Ånna"`))); res.status != 202 {
		t.Fatalf("valid signup: %d %s", res.status, res.body)
	}
	if l := h.lead("anna@example.com"); l.FirstName != "Ånna" {
		t.Fatalf("stored name %q", l.FirstName)
	}
}

func TestAPI_TrailingDataIs400(t *testing.T) {
	h := start(t, nil)
	one := rawJSON("anna@example.com", "")
	for name, body := range map[string]string{
		"text after the object": one + "xyz",
		"two objects":           one + rawJSON("bert@example.com", ""),
		"two objects, spaced":   one + "\n" + rawJSON("bert@example.com", ""),
		"a stray bracket":       one + "}",
	} {
		res := h.do("POST", "/api/v1/subscribe", "application/json", strings.NewReader(body))
		if res.status != 400 || !strings.Contains(res.body, "send one JSON object") {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
	h.noLead(t, "anna@example.com")
	h.noLead(t, "bert@example.com")
	// White space after the object is no data.
	if res := h.do("POST", "/api/v1/subscribe", "application/json", strings.NewReader(one+" \r\n\t")); res.status != 202 {
		t.Fatalf("object and white space: %d %s", res.status, res.body)
	}
	// The admin API reads its bodies the same way.
	res := h.do("PUT", "/api/v1/leads/anna@example.com/stage", "application/json", strings.NewReader(`{"stage": "mql"}{"stage": "sql"}`),
		"Authorization", "Bearer "+adminToken)
	if res.status != 400 || !strings.Contains(res.body, "send one JSON object") {
		t.Errorf("stage with two objects: %d %s", res.status, res.body)
	}
	if l := h.lead("anna@example.com"); l.Stage != "lead" {
		t.Errorf("stage changed to %q", l.Stage)
	}
}

// expiredLink signs email up and returns its confirmation link's path once
// the link has expired.
func (h *harness) expiredLink(t *testing.T, email string) string {
	t.Helper()
	if res := h.subscribeJSON(signup(email)); res.status != 202 {
		t.Fatalf("signup: %d %s", res.status, res.body)
	}
	path := strings.TrimPrefix(linkIn(t, h.waitMail(1)), h.base)
	h.clock.Advance(72*time.Hour + time.Second)
	return path
}

func (h *harness) ledgerKinds(email string) map[string]int {
	kinds := map[string]int{}
	for _, e := range h.lead(email).Ledger {
		kinds[e.Kind]++
	}
	return kinds
}

func TestResend_RateLimitedAndLedgerOnlyWhenAMailGoesOut(t *testing.T) {
	h := start(t, nil) // 5 signups an hour per address, 60 a minute per IP
	path := h.expiredLink(t, "frank@example.com")
	statuses := map[int]int{}
	for range 100 {
		res := h.do("POST", path+"/resend", "", nil)
		statuses[res.status]++
		if res.status == 429 {
			if s, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || s < 1 {
				t.Fatalf("429 with Retry-After %q", res.header.Get("Retry-After"))
			}
		}
	}
	// Five an hour for the address, as for its signups.
	if statuses[200] != 5 || statuses[429] != 95 {
		t.Fatalf("100 resends answered %v; want 5 × 200 and 95 × 429", statuses)
	}
	h.waitMail(2)
	if n := countMessages(t, h, "frank@example.com"); n != 2 {
		t.Fatalf("%d mails; want the signup's and one resend", n)
	}
	if kinds := h.ledgerKinds("frank@example.com"); kinds["resend"] != 1 || len(h.lead("frank@example.com").Ledger) != 2 {
		t.Fatalf("ledger %v; want the signup and the one resend that mailed", kinds)
	}
	// A day later the link may mail again, once the limit has refilled.
	h.clock.Advance(24 * time.Hour)
	if res := h.do("POST", path+"/resend", "", nil); res.status != 200 {
		t.Fatalf("resend a day later: %d", res.status)
	}
	h.waitMail(3)
	if kinds := h.ledgerKinds("frank@example.com"); kinds["resend"] != 2 {
		t.Fatalf("ledger %v after the second resend", kinds)
	}
}

func TestResend_SharesThePerIPLimitWithSignups(t *testing.T) {
	h := start(t, map[string]string{"NURTURE_RATE_IP": "3"})
	path := h.expiredLink(t, "gina@example.com")
	for i, want := range []int{200, 200, 200, 429} {
		if res := h.do("POST", path+"/resend", "", nil); res.status != want {
			t.Fatalf("resend %d: %d, want %d", i+1, res.status, want)
		}
	}
	if res := h.subscribeJSON(signup("hans@example.com")); res.status != 429 {
		t.Fatalf("signup after the resends: %d", res.status)
	}
}

func TestSubscribe_BidiControlsRefusedInAddressesAndNames(t *testing.T) {
	h := start(t, map[string]string{"NURTURE_RATE_IP": "0"})
	for _, c := range []string{"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"} {
		for _, field := range []string{"email", "first_name", "last_name"} {
			s := signup("ivan@example.com")
			if field == "email" {
				s["email"] = "ivan" + c + "moc.elpmaxe@evil.example"
			} else {
				s[field] = "Iv" + c + "an"
			}
			res := h.subscribeJSON(s)
			if res.status != 422 || !strings.Contains(fieldErrors(t, res)[field], "bidirectional control") {
				t.Errorf("U+%04X in %s (JSON): %d %s", []rune(c)[0], field, res.status, res.body)
			}
			form := url.Values{"email": {"ivan@example.com"}, "consent_text": {"yes"}, "consent_version": {"1"}}
			form.Set(field, s[field].(string))
			page := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
			if page.status != 422 || !strings.Contains(page.body, "bidirectional control") {
				t.Errorf("U+%04X in %s (form): %d", []rune(c)[0], field, page.status)
			}
		}
	}
	h.noLead(t, "ivan@example.com")
}

func TestRetryAfter_Every429And503CarriesIt(t *testing.T) {
	h := start(t, map[string]string{"NURTURE_RATE_IP": "2", "NURTURE_RATE_EMAIL": "1"})
	retry := func(what string, res response, want int) {
		t.Helper()
		got, err := strconv.Atoi(res.header.Get("Retry-After"))
		if err != nil || got < 1 || got > want {
			t.Errorf("%s: %d with Retry-After %q, want 1..%d", what, res.status, res.header.Get("Retry-After"), want)
		}
	}
	// One signup of an address an hour: the next is allowed in an hour.
	h.subscribeJSON(signup("jana@example.com"))
	res := h.subscribeJSON(signup("jana@example.com"))
	if res.status != 429 {
		t.Fatalf("second signup of an address: %d", res.status)
	}
	retry("per-address limit", res, 3600)
	if s, _ := strconv.Atoi(res.header.Get("Retry-After")); s < 3500 {
		t.Errorf("per-address limit: Retry-After %d, want about an hour", s)
	}
	// Two a minute per IP: both signups took them; the next is in 30 s.
	res = h.subscribeJSON(signup("karl@example.com"))
	if res.status != 429 {
		t.Fatalf("third signup from an IP: %d", res.status)
	}
	retry("per-IP limit (JSON)", res, 30)
	form := url.Values{"email": {"lena@example.com"}, "consent_text": {"yes"}, "consent_version": {"1"}}
	page := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if page.status != 429 {
		t.Fatalf("form signup over the limit: %d", page.status)
	}
	retry("per-IP limit (form)", page, 30)

	if _, err := h.app.store.DB().Exec(`DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	res = h.do("GET", "/readyz", "", nil)
	if res.status != 503 {
		t.Fatalf("readyz: %d", res.status)
	}
	retry("readyz", res, 60)
}

func TestAdmin_BearerSchemeIsCaseInsensitive(t *testing.T) {
	h := start(t, nil)
	h.subscribeJSON(signup("mara@example.com"))
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		res := h.do("GET", "/api/v1/leads/mara@example.com", "", nil, "Authorization", scheme+" "+adminToken)
		if res.status != 200 {
			t.Errorf("%s: %d %s", scheme, res.status, res.body)
		}
	}
	for _, bad := range []string{"Bearer" + adminToken, "Bearers " + adminToken, "Basic " + adminToken, "bearer " + strings.ToUpper(adminToken)} {
		if res := h.do("GET", "/api/v1/leads/mara@example.com", "", nil, "Authorization", bad); res.status != 401 {
			t.Errorf("%q: %d", bad, res.status)
		}
	}
}
