package main

import (
	"strings"
	"testing"
)

func (h *harness) admin(method, path, body string) response {
	h.t.Helper()
	return h.do(method, path, "application/json", strings.NewReader(body), "Authorization", "Bearer "+adminToken)
}

func TestAPI_EventsAndManualEnrolment(t *testing.T) {
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": "../../campaigns"})
	s := signup("lena@example.com")
	s["source"] = "newsletter"
	h.subscribeJSON(s)
	link := linkIn(t, h.waitMail(1))

	// A pending lead cannot be enrolled by hand.
	if res := h.admin("POST", "/api/v1/sequences/ebook-datensicherheit/enrolments", `{"lead": "lena@example.com"}`); res.status != 409 {
		t.Fatalf("pending lead enrolled: %d %s", res.status, res.body)
	}
	h.do("POST", strings.TrimPrefix(link, h.base), "", nil)

	if res := h.admin("POST", "/api/v1/sequences/ebook-datensicherheit/enrolments", `{"lead": "lena@example.com"}`); res.status != 201 || !strings.Contains(res.body, `"ebook-datensicherheit"`) {
		t.Fatalf("manual enrolment: %d %s", res.status, res.body)
	}
	if res := h.admin("POST", "/api/v1/sequences/ebook-datensicherheit/enrolments", `{"lead": "lena@example.com"}`); res.status != 409 {
		t.Fatalf("second enrolment without reenroll: %d %s", res.status, res.body)
	}
	if res := h.admin("POST", "/api/v1/sequences/no-such-sequence/enrolments", `{"lead": "lena@example.com"}`); res.status != 404 {
		t.Fatalf("unknown sequence: %d %s", res.status, res.body)
	}
	if res := h.admin("POST", "/api/v1/sequences/welcome/enrolments", `{"lead": "nobody@example.com"}`); res.status != 404 {
		t.Fatalf("unknown lead: %d %s", res.status, res.body)
	}
	if res := h.admin("POST", "/api/v1/sequences/welcome/enrolments", `{}`); res.status != 400 {
		t.Fatalf("no lead: %d %s", res.status, res.body)
	}

	if res := h.admin("POST", "/api/v1/leads/lena@example.com/events", `{"type": "demo_booked"}`); res.status != 201 || !strings.Contains(res.body, `"demo_booked"`) {
		t.Fatalf("event: %d %s", res.status, res.body)
	}
	if res := h.admin("POST", "/api/v1/leads/lena@example.com/events", `{"type": "two words"}`); res.status != 400 {
		t.Fatalf("bad event type: %d %s", res.status, res.body)
	}
	if res := h.do("POST", "/api/v1/leads/lena@example.com/events", "application/json", strings.NewReader(`{"type": "x"}`)); res.status != 401 {
		t.Fatalf("event without token: %d", res.status)
	}
	var n int
	h.app.store.DB().Get(&n, `SELECT count(*) FROM events WHERE type = 'demo_booked'`)
	if n != 1 {
		t.Fatalf("%d demo_booked events stored", n)
	}
}
