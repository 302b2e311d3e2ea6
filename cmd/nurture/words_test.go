package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// internalWords are what an error's own text says of the code behind it:
// a package prefix, a Go type, a driver.
var internalWords = regexp.MustCompile(`\b(dispatch|optin|store|web|json|pq|sql|campaign|lead|http|outbox|mailer):|Go (value|type)|\bstruct\b|main\.|web\.|lead\.|\n`)

// TestAPI_ErrorsSpeakToTheClient walks every error the API answers with and
// checks that each is JSON with a message for the client, not for us.
func TestAPI_ErrorsSpeakToTheClient(t *testing.T) {
	dir := writeCampaigns(t, map[string]string{
		"vip/sequence.md": "---\ntrigger: manual\n---\n",
		"vip/01-hello.md": "---\nsubject: A personal hello\ndelay: 0\n---\nHi.\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_RATE_IP": "100"})
	if res := h.subscribeJSON(signup("anna@example.com")); res.status != 202 {
		t.Fatalf("signup: %d %s", res.status, res.body)
	}
	auth := []string{"Authorization", "Bearer " + adminToken}
	type call struct {
		name, method, path, body string
		admin                    bool
		status                   int
		says                     string // a part of the message
	}
	calls := []call{
		{"malformed", "POST", "/api/v1/subscribe", `{"email": }`, false, 400, "invalid JSON at byte"},
		{"cut short", "POST", "/api/v1/subscribe", `{"email": "a@example.com"`, false, 400, "ends before"},
		{"empty", "POST", "/api/v1/subscribe", ``, false, 400, "body is empty"},
		{"an array", "POST", "/api/v1/subscribe", `[1, 2]`, false, 400, "must be a JSON object, not a list"},
		{"a string", "POST", "/api/v1/subscribe", `"anna@example.com"`, false, 400, "must be a JSON object, not text"},
		{"unknown field", "POST", "/api/v1/subscribe", `{"emial": "a@example.com"}`, false, 400, `unknown field "emial"`},
		{"trailing data", "POST", "/api/v1/subscribe", `{}x`, false, 400, "send one JSON object"},
		{"wrong type", "POST", "/api/v1/subscribe", `{"email": 5}`, false, 422, "see fields"},
		{"invalid field", "POST", "/api/v1/subscribe", `{"email": "nope"}`, false, 422, "see fields"},
		{"too large", "POST", "/api/v1/subscribe", `{"email": "` + strings.Repeat("a", 70<<10) + `"}`, false, 413, "too large"},
		{"no token", "GET", "/api/v1/leads/anna@example.com", ``, false, 401, "bearer token"},
		{"unknown lead", "GET", "/api/v1/leads/nobody@example.com", ``, true, 404, "not found"},
		{"unknown endpoint", "GET", "/api/v1/nope", ``, false, 404, "GET /api/v1 lists them"},
		{"wrong method", "DELETE", "/api/v1/subscribe", ``, false, 405, "does not take that method"},
		{"event without type", "POST", "/api/v1/leads/anna@example.com/events", `{}`, true, 400, `send {"type": "demo_booked"}`},
		{"event, malformed", "POST", "/api/v1/leads/anna@example.com/events", `{"type": `, true, 400, `; send {"type": "demo_booked"}`},
		{"stage missing", "PUT", "/api/v1/leads/anna@example.com/stage", `{}`, true, 400, `send {"stage": "mql"}`},
		{"not a stage", "PUT", "/api/v1/leads/anna@example.com/stage", `{"stage": "hot"}`, true, 422, "stage must be one of"},
		{"enrolment without lead", "POST", "/api/v1/sequences/vip/enrolments", `{}`, true, 400, `send {"lead": 42}`},
		{"unknown sequence", "POST", "/api/v1/sequences/nope/enrolments", `{"lead": "anna@example.com"}`, true, 404, "not found"},
		{"lead not confirmed", "POST", "/api/v1/sequences/vip/enrolments", `{"lead": "anna@example.com"}`, true, 409, "not confirmed, or it is in this sequence already"},
		{"rate limit", "POST", "/api/v1/subscribe", `{"email": "anna@example.com", "consent_text": "yes", "consent_version": "1"}`, false, 429, "try again later"},
	}
	for _, c := range calls {
		if c.name == "rate limit" {
			for range 5 {
				h.subscribeJSON(signup("anna@example.com"))
			}
		}
		var hdr []string
		if c.admin {
			hdr = auth
		}
		res := h.do(c.method, c.path, "application/json", strings.NewReader(c.body), hdr...)
		var body struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(res.body), &body); err != nil || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: not JSON: %d %s %q", c.name, res.status, res.header.Get("Content-Type"), res.body)
			continue
		}
		if res.status != c.status || !strings.Contains(body.Error, c.says) {
			t.Errorf("%s: %d %q; want %d saying %q", c.name, res.status, body.Error, c.status, c.says)
		}
		if w := internalWords.FindString(body.Error); w != "" {
			t.Errorf("%s: the message %q speaks of the code (%q)", c.name, body.Error, w)
		}
		if c.status == http.StatusMethodNotAllowed && res.header.Get("Allow") == "" {
			t.Errorf("%s: 405 without Allow", c.name)
		}
	}
}

// TestConfirmationMail_TextIsWrappedEvenly checks the plain-text part of a
// confirmation mail whose sender's name is long: no line runs past 72
// characters unless it is one word (the link), and no line breaks before a
// word that would have fit on it.
func TestConfirmationMail_TextIsWrappedEvenly(t *testing.T) {
	h := start(t, map[string]string{"NURTURE_FROM": "The Backup Brief by Nurture Demo GmbH <news@acme.example>"})
	h.subscribeJSON(signup("anna@example.com"))
	m := h.waitMail(1)
	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	if !strings.Contains(strings.Join(strings.Fields(text), " "), "mail from The Backup Brief by Nurture Demo GmbH:") {
		t.Fatalf("unexpected text:\n%s", text)
	}
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		n := utf8.RuneCountInString(line)
		if n > 72 && strings.Contains(line, " ") {
			t.Errorf("line %d has %d characters: %q", i+1, n, line)
		}
		if i+1 < len(lines) && line != "" && lines[i+1] != "" {
			next := strings.Fields(lines[i+1])[0]
			if n+1+utf8.RuneCountInString(next) <= 72 {
				t.Errorf("line %d breaks before %q, which fits:\n%s", i+1, next, text)
			}
		}
	}
	if link := linkIn(t, m); !strings.Contains(text, "\n"+link+"\n") {
		t.Errorf("the link is not on a line of its own:\n%s", text)
	}
}
