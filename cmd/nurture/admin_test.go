package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

func TestAdmin_LeadLookupNeedsToken(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	h.subscribeJSON(signup("jack@example.com"))
	if res := h.do("GET", "/api/v1/leads/jack@example.com", "", nil); res.status != 401 {
		t.Fatalf("no token: %d", res.status)
	}
	if res := h.do("GET", "/api/v1/leads/jack@example.com", "", nil, "Authorization", "Bearer wrong"); res.status != 401 {
		t.Fatalf("wrong token: %d", res.status)
	}
	for _, bad := range []string{adminToken, "Basic " + adminToken, "Bearer  " + adminToken, "Bearer"} {
		if res := h.do("GET", "/api/v1/leads/jack@example.com", "", nil, "Authorization", bad); res.status != 401 {
			t.Fatalf("Authorization %q: %d", bad, res.status)
		}
	}
	l := h.lead("jack@example.com")
	byID := h.do("GET", "/api/v1/leads/"+strconv.FormatInt(l.ID, 10), "", nil, "Authorization", "Bearer "+adminToken)
	if byID.status != 200 || !strings.Contains(byID.body, `"company": "Acme GmbH"`) {
		t.Fatalf("by id: %d %s", byID.status, byID.body)
	}
}

func TestAdmin_BearerSchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
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

// GET /api/v1 (what make run prints) is an index of what the server serves.
func TestAPIIndex_ListsEveryEndpoint(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	var index struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Endpoints []struct {
			Method string `json:"method"`
			Path   string `json:"path"`
			Admin  bool   `json:"admin"`
		} `json:"endpoints"`
	}
	for _, path := range []string{"/api/v1", "/api/v1/"} {
		res := h.do("GET", path, "", nil)
		if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %s", path, res.status, res.body)
		}
		if err := json.Unmarshal([]byte(res.body), &index); err != nil {
			t.Fatal(err)
		}
		if index.Name != "nurture" || index.Version != version {
			t.Fatalf("%s: name %q version %q", path, index.Name, index.Version)
		}
	}
	want := map[string]bool{ // method and path: needs the admin token
		"POST /api/v1/subscribe":                       false,
		"GET /subscribe":                               false,
		"GET /readyz":                                  false,
		"GET /api/v1/leads/{ref}":                      true,
		"DELETE /api/v1/leads/{ref}":                   true,
		"POST /api/v1/leads/{ref}/events":              true,
		"POST /api/v1/sequences/{sequence}/enrolments": true,
	}
	listed := map[string]bool{}
	fill := strings.NewReplacer("{ref}", "nobody@example.com", "{sequence}", "welcome", "{token}", "nope")
	for _, e := range index.Endpoints {
		key := e.Method + " " + e.Path
		listed[key] = e.Admin
		// Every listed endpoint is served, and asks for the token exactly
		// when the index says so.
		res := h.do(e.Method, fill.Replace(e.Path), "", nil)
		if res.body == "404 page not found\n" || res.status == http.StatusMethodNotAllowed {
			t.Errorf("%s is listed but not served: %d", key, res.status)
		}
		if (res.status == http.StatusUnauthorized) != e.Admin {
			t.Errorf("%s: admin %v, but an anonymous request got %d", key, e.Admin, res.status)
		}
	}
	for key, admin := range want {
		if got, ok := listed[key]; !ok || got != admin {
			t.Errorf("%s: listed %v admin %v, want admin %v", key, ok, got, admin)
		}
	}
}

// internalWords are what an error's own text says of the code behind it:
// a package prefix, a Go type, a driver.
var internalWords = regexp.MustCompile(`\b(dispatch|optin|store|web|json|pq|sql|campaign|lead|http|outbox|mailer):|Go (value|type)|\bstruct\b|main\.|web\.|lead\.|\n`)

// TestAPI_ErrorsSpeakToTheClient walks every error the API answers with and
// checks that each is JSON with a message for the client, not for us.
func TestAPI_ErrorsSpeakToTheClient(t *testing.T) {
	t.Parallel()
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
		{"event, not a time", "POST", "/api/v1/events", `{"lead": "anna@example.com", "type": "demo_booked", "at": "yesterday"}`, true, 400, `"yesterday" is not a time: write it as in RFC 3339`},
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

func TestStageAPI_EnrolsOnStageTriggersAndEndsStageExits(t *testing.T) {
	t.Parallel()
	dir := writeCampaigns(t, map[string]string{
		"ebook/sequence.md":     "---\ntrigger: confirmed\nexit:\n  stage: sal\n---\n",
		"ebook/01-download.md":  "---\nsubject: Your e-book\ndelay: 0\n---\nHere it is.\n",
		"ebook/02-follow-up.md": "---\nsubject: Did you read it?\ndelay: 2d\n---\nWell?\n",
		"mql/sequence.md":       "---\ntrigger:\n  stage: mql\n---\n",
		"mql/01-call.md":        "---\nsubject: Shall we talk?\ndelay: 0\n---\nBook a call.\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_TICK": "20ms"})
	h.confirmAnna(1)
	if m := h.waitMail(2); m.Subject != "Your e-book" {
		t.Fatalf("first step: %q", m.Subject)
	}
	put := func(ref, body string) response {
		return h.do("PUT", "/api/v1/leads/"+ref+"/stage", "application/json", strings.NewReader(body), "Authorization", "Bearer "+adminToken)
	}
	change := func(res response) map[string]any {
		t.Helper()
		var v map[string]any
		if res.status != http.StatusOK || json.Unmarshal([]byte(res.body), &v) != nil {
			t.Fatalf("stage: %d %s", res.status, res.body)
		}
		return v
	}

	// mql enrols the lead in the sequence the stage triggers.
	if c := change(put("anna@example.com", `{"stage": "mql"}`)); c["from"] != "lead" || c["stage"] != "mql" || c["enrolled"] != 1.0 || c["exited"] != 0.0 {
		t.Fatalf("to mql: %v", c)
	}
	if m := h.waitMail(3); m.Subject != "Shall we talk?" {
		t.Fatalf("stage-triggered step: %q", m.Subject)
	}
	if l := h.lead("anna@example.com"); l.Stage != "mql" {
		t.Fatalf("the lead's stage is %q", l.Stage)
	}
	// The same stage again changes nothing.
	if c := change(put("anna@example.com", `{"stage": "mql"}`)); c["enrolled"] != 0.0 || c["exited"] != 0.0 {
		t.Fatalf("mql again: %v", c)
	}

	// sql is past the e-book's exit on sal: that enrolment ends at once.
	id := h.lead("anna@example.com").ID
	if c := change(put(strconv.FormatInt(id, 10), `{"stage": "sql"}`)); c["exited"] != 1.0 || c["enrolled"] != 0.0 {
		t.Fatalf("to sql: %v", c)
	}
	es, err := h.store().EnrolmentsOf(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Sequence == "ebook" && (e.State != lead.EnrolmentExited || e.EndedReason != "exit: stage sql") {
			t.Fatalf("the e-book enrolment after sql: %+v", e)
		}
	}
	h.advance(3 * 24 * time.Hour)
	h.settle() // whatever was due has arrived
	if msgs := h.mail.Messages(); len(msgs) > 3 {
		t.Fatalf("a step went out after the exit: %q", msgs[3].Subject)
	}

	for _, tt := range []struct {
		ref, body string
		status    int
	}{
		{"anna@example.com", `{"stage": "hot"}`, http.StatusUnprocessableEntity},
		{"anna@example.com", `{"stage": ""}`, http.StatusUnprocessableEntity},
		{"anna@example.com", `{"stage": 2}`, http.StatusBadRequest},
		{"anna@example.com", `{}`, http.StatusBadRequest},
		{"anna@example.com", `not json`, http.StatusBadRequest},
		{"nobody@example.com", `{"stage": "mql"}`, http.StatusNotFound},
		{"999999", `{"stage": "mql"}`, http.StatusNotFound},
	} {
		if res := put(tt.ref, tt.body); res.status != tt.status {
			t.Errorf("PUT %s %s: %d %s, want %d", tt.ref, tt.body, res.status, res.body, tt.status)
		}
	}
	if res := h.do("PUT", "/api/v1/leads/anna@example.com/stage", "application/json", strings.NewReader(`{"stage": "sal"}`)); res.status != http.StatusUnauthorized {
		t.Errorf("without the token: %d", res.status)
	}
}
