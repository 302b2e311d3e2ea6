package main

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
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
	t.Parallel()
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
	t.Parallel()
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

func TestSubscribe_BidiControlsRefusedInAddressesAndNames(t *testing.T) {
	t.Parallel()
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

func TestSubscribe_CRLFInNameIsRefused(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	s := signup("henry@example.com")
	s["first_name"] = "Henry\r\nBcc: victim@example.com"
	res := h.subscribeJSON(s)
	if res.status != 422 || !strings.Contains(res.body, `"first_name"`) {
		t.Fatalf("%d %s", res.status, res.body)
	}
	form := url.Values{"email": {"henry@example.com"}, "first_name": {"Henry\nSubject: spam"}, "consent_text": {"yes"}, "consent_version": {"1"}}
	page := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if page.status != 422 || !strings.Contains(page.body, "First name must not contain line breaks") || !strings.Contains(page.body, `value="henry@example.com"`) {
		t.Fatalf("form: %d %s", page.status, page.body)
	}
	if n := countMessages(t, h, "henry@example.com"); n != 0 {
		t.Fatalf("%d mails queued", n)
	}
}

func TestSubscribe_MarkupAndLinksInNameNeverReachTheMail(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	names := []string{"<b>x</b>", "[win](http://evil.example)", "Visit evil.example now", `<a href="http://evil.example">Anna</a>`}
	for i, name := range names {
		s := signup("ivy" + string(rune('a'+i)) + "@example.com")
		s["first_name"] = name
		if res := h.subscribeJSON(s); res.status != 202 {
			t.Fatalf("%d %s", res.status, res.body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := h.mail.WaitFor(ctx, len(names))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		for _, part := range []string{m.HTML, m.Text, m.Subject} {
			if strings.Contains(part, "evil.example") || strings.Contains(part, "<b>") || strings.Contains(part, "&lt;b&gt;") {
				t.Errorf("name leaked into the mail to %v:\n%s", m.To, part)
			}
		}
	}
}

func TestSubscribe_OversizedBodyIs413(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	big := `{"email":"a@example.com","first_name":"` + strings.Repeat("x", 70<<10) + `"}`
	// With a Content-Length the limit refuses the request before any handler
	// reads it; without one (chunked), the handler's read stops at the limit.
	// Either way the API answers JSON and the form an HTML page.
	for _, body := range []io.Reader{strings.NewReader(big), io.MultiReader(strings.NewReader(big))} {
		res := h.do("POST", "/api/v1/subscribe", "application/json", body)
		if res.status != 413 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") ||
			!strings.Contains(res.body, `"error": "request body too large"`) {
			t.Fatalf("JSON: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
		}
	}
	form := "email=a%40example.com&first_name=" + strings.Repeat("x", 70<<10)
	if res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form)); res.status != 413 ||
		!strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
		t.Fatalf("form: %d %s", res.status, res.header.Get("Content-Type"))
	}
}

func TestSubscribe_InvalidEmailGetsFieldError(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	s := signup("not-an-address")
	res := h.subscribeJSON(s)
	if res.status != 422 || !strings.Contains(res.body, `"email": "is not a valid email address"`) {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if res := h.do("POST", "/api/v1/subscribe", "application/json", strings.NewReader(`{"email": "a@example.com",`)); res.status != 400 {
		t.Fatalf("malformed JSON: %d %s", res.status, res.body)
	}
}

// A value of the wrong type is the client's mistake in one field: a 422
// that names it, like any other invalid field.
func TestSubscribe_WrongJSONTypeNamesTheField(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	tests := []struct{ body, field, msg string }{
		{`{"first_name": 5}`, "first_name", "must be text, not a number"},
		{`{"email": ["a@example.com"]}`, "email", "must be text, not a list"},
		{`{"consent_text": true}`, "consent_text", "must be text, not true or false"},
		{`{"attributes": "Acme"}`, "attributes", "must be an object, not text"},
		{`{"source_url": {}}`, "source_url", "must be text, not an object"},
	}
	for _, tt := range tests {
		res := h.do("POST", "/api/v1/subscribe", "application/json", strings.NewReader(tt.body))
		var got struct {
			Error  string            `json:"error"`
			Fields map[string]string `json:"fields"`
		}
		json.Unmarshal([]byte(res.body), &got)
		if res.status != 422 || got.Fields[tt.field] != tt.msg {
			t.Errorf("%s: %d %s, want 422 with %s: %s", tt.body, res.status, res.body, tt.field, tt.msg)
		}
	}
}

func TestSubscribe_HoneypotDropsSignupQuietly(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	form := url.Values{"email": {"bot@example.com"}, "website": {"http://spam.example"}, "consent_text": {"yes"}, "consent_version": {"1"}}
	res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if res.status != 200 || !strings.Contains(res.body, "Check your inbox") {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if n := countMessages(t, h, "bot@example.com"); n != 0 {
		t.Fatal("honeypot signup was mailed")
	}
}

func TestSubscribe_SourceMustBeASlug(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	s := signup("lena@example.com")
	s["source"] = "Lena Schmidt, lena@example.com"
	if res := h.subscribeJSON(s); res.status != 422 || !strings.Contains(res.body, `"source": "must be a short name`) {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if n := countMessages(t, h, "lena@example.com"); n != 0 {
		t.Fatalf("%d mails queued", n)
	}
}
