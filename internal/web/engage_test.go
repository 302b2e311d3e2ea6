package web

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/nurture/nurture/internal/engage"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// fakeEngage records what the handlers ask of the engagement service.
type fakeEngage struct {
	mu     sync.Mutex
	opens  []string
	clicks []string
	reqs   []engage.Request
	events [][]engage.Event

	target            string
	openErr, clickErr error
	recordErr         error
	duplicate         bool
}

func (f *fakeEngage) Open(ctx context.Context, tok string, r engage.Request) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens, f.reqs = append(f.opens, tok), append(f.reqs, r)
	return f.openErr
}

func (f *fakeEngage) Click(ctx context.Context, tok string, r engage.Request) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clicks, f.reqs = append(f.clicks, tok), append(f.reqs, r)
	return f.target, f.clickErr
}

func (f *fakeEngage) Record(ctx context.Context, evs []engage.Event) ([]engage.Recorded, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, evs)
	if f.recordErr != nil {
		return nil, f.recordErr
	}
	out := make([]engage.Recorded, len(evs))
	for i := range evs {
		out[i] = engage.Recorded{ID: int64(100 + i), Lead: 7, Duplicate: f.duplicate, Enrolled: 2}
	}
	return out, nil
}

func (f *fakeEngage) Stats() engage.Stats { return engage.Stats{Recorded: 5, Lost: 1} }

func TestPixel_AlwaysTheGIFUncached(t *testing.T) {
	t.Parallel()
	for _, err := range []error{nil, engage.ErrUnknown, store.ErrNotFound, errors.New("database down")} {
		b := setupHandlers(t, nil)
		b.eng.openErr = err
		for _, method := range []string{"GET", "HEAD"} {
			res, body := b.do(t, method, "/o/tok123", "", "", "User-Agent", "Mozilla/5.0", "Sec-Purpose", "prefetch")
			want := tracking.Pixel
			if method == "HEAD" {
				want = ""
			}
			if res.StatusCode != 200 || body != want || res.Header.Get("Content-Type") != "image/gif" ||
				res.Header.Get("Cache-Control") != "no-store" || res.ContentLength != 43 {
				t.Errorf("%s with %v: %d %q %v", method, err, res.StatusCode, body, res.Header)
			}
		}
		if len(b.eng.opens) != 2 || b.eng.opens[0] != "tok123" || b.eng.reqs[1].Method != "HEAD" ||
			b.eng.reqs[0].UserAgent != "Mozilla/5.0" || b.eng.reqs[0].Purpose != "prefetch" || !b.eng.reqs[0].IP.IsLoopback() {
			t.Errorf("opens %q, requests %+v", b.eng.opens, b.eng.reqs)
		}
	}
}

func TestClick_RedirectsOr404OrTryAgain(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		target   string
		err      error
		status   int
		location string
	}{
		{"https://acme.example/pricing", nil, 302, "https://acme.example/pricing"},
		{"https://acme.example/preise-für-teams", nil, 302, "https://acme.example/preise-f%c3%bcr-teams"}, // escaped by http.Redirect
		{"", engage.ErrUnknown, 404, ""},
		{"https://acme.example/pricing", errors.New("database down"), 302, "https://acme.example/pricing"},
		{"", store.ErrUnavailable, 503, ""},
		{"", nil, 204, ""}, // the honeypot
	} {
		b := setupHandlers(t, nil)
		b.eng.target, b.eng.clickErr = tt.target, tt.err
		res, body := b.do(t, "GET", "/c/tok?url=https://evil.example/", "", "")
		if res.StatusCode != tt.status || res.Header.Get("Location") != tt.location || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%q, %v: %d %v", tt.target, tt.err, res.StatusCode, res.Header)
		}
		if tt.status == 404 && !strings.Contains(body, "<html") {
			t.Errorf("404 is not a page: %s", body)
		}
		if b.eng.clicks[0] != "tok" {
			t.Errorf("clicks = %q", b.eng.clicks)
		}
	}
}

func TestEventsAPI_OneOrABatch(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	res, body := b.admin(t, "POST", "/api/v1/events", `{"lead": "anna@example.com", "type": "demo_requested", "url": "https://acme.example/demo", "at": "2026-12-01T10:00:00Z", "idempotency_key": "crm-4711"}`)
	if res.StatusCode != 201 || !strings.Contains(body, `"id": 100`) || !strings.Contains(body, `"duplicate": false`) {
		t.Fatalf("one: %d %s", res.StatusCode, body)
	}
	e := b.eng.events[0][0]
	if e.Lead != "anna@example.com" || e.Type != "demo_requested" || e.URL != "https://acme.example/demo" ||
		e.At.Format("2006-01-02T15:04Z") != "2026-12-01T10:00Z" || e.IdempotencyKey != "crm-4711" || e.Source != "api" {
		t.Errorf("event = %+v", e)
	}
	res, body = b.admin(t, "POST", "/api/v1/events", ` [{"lead": 7, "type": "download"}, {"lead": "8", "type": "page_view", "url": "https://acme.example/"}]`)
	var out struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || res.StatusCode != 201 || len(out.Events) != 2 {
		t.Fatalf("batch: %d %s", res.StatusCode, body)
	}
	if got := b.eng.events[1]; got[0].Lead != "7" || got[1].Lead != "8" || !got[1].At.IsZero() {
		t.Errorf("batch events = %+v", got)
	}
}

func TestEventsAPI_BadRequestsSayWhatToSend(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	for _, bad := range []string{`[]`, `not json`, `{"lead": 7, "type": "x", "extra": 1}`, `{"lead": 7, "at": "yesterday"}`, `5`, `[{"lead": 7}] x`} {
		if res, body := b.admin(t, "POST", "/api/v1/events", bad); res.StatusCode != 400 || !strings.Contains(body, "idempotency_key") {
			t.Errorf("%s: %d %s", bad, res.StatusCode, body)
		}
	}
	if res, _ := b.do(t, "POST", "/api/v1/events", "application/json", `{"lead": 7, "type": "x"}`); res.StatusCode != 401 {
		t.Errorf("no token: %d", res.StatusCode)
	}
	for _, tt := range []struct {
		err    error
		status int
		want   string
	}{
		{&engage.EventError{Index: 1, Msg: "type must be one word"}, 422, "event 1: type must be one word"},
		{&engage.EventError{Index: 0, Msg: `no lead "x@example.com"`, Unknown: true}, 404, `event 0: no lead \"x@example.com\"`},
	} {
		b.eng.recordErr = tt.err
		if res, body := b.admin(t, "POST", "/api/v1/events", `{"lead": 7, "type": "x"}`); res.StatusCode != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%v: %d %s", tt.err, res.StatusCode, body)
		}
	}
}

func TestLeadEventAPI_RecordsThroughTheSamePath(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, nil)
	if res, body := b.admin(t, "POST", "/api/v1/leads/7/events", `{"type": "demo_booked"}`); res.StatusCode != 201 || !strings.Contains(body, `"enrolled": 2`) {
		t.Fatalf("event: %d %s", res.StatusCode, body)
	}
	if e := b.eng.events[0][0]; e.Lead != "7" || e.Type != "demo_booked" || e.Source != "api" {
		t.Errorf("event = %+v", e)
	}
	for _, bad := range []string{`{"type": "two words"}`, `{"type": 5}`, `{}`, `not json`} {
		if res, body := b.admin(t, "POST", "/api/v1/leads/7/events", bad); res.StatusCode != 400 || !strings.Contains(body, "demo_booked") {
			t.Errorf("event %s: %d %s", bad, res.StatusCode, body)
		}
	}
	b.eng.recordErr = &engage.EventError{Msg: "no lead", Unknown: true}
	if res, body := b.admin(t, "POST", "/api/v1/leads/nobody@example.com/events", `{"type": "x"}`); res.StatusCode != 404 {
		t.Errorf("unknown lead: %d %s", res.StatusCode, body)
	}
	res, body := b.admin(t, "GET", "/api/v1/events/stats", "")
	if res.StatusCode != 200 || !strings.Contains(body, `"events_lost": 1`) {
		t.Errorf("stats: %d %s", res.StatusCode, body)
	}
}
