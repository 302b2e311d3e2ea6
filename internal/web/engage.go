package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/nurture/nurture/internal/engage"
	"github.com/nurture/nurture/internal/tracking"
)

// Engagement records opens, clicks and events; *engage.Service is one.
type Engagement interface {
	Open(ctx context.Context, tok string, r engage.Request) error
	Click(ctx context.Context, tok string, r engage.Request) (target string, err error)
	Record(ctx context.Context, evs []engage.Event) ([]engage.Recorded, error)
	Stats() engage.Stats
}

func (s *Server) engageRoutes() []route {
	if s.cfg.Engage == nil {
		return nil
	}
	return append(s.hitRoutes(),
		route{"POST", "/api/v1/events", s.postEvents, true},
		route{"POST", "/api/v1/leads/{ref}/events", s.postLeadEvent, true},
		route{"GET", "/api/v1/events/stats", s.eventStats, true},
	)
}

// hitRoutes are the pixel and the tracked links. Each waits for its commit
// no longer than the engage service's Wait and answers a few bytes, so they are served without
// http.TimeoutHandler, whose goroutine, buffered answer and copied headers
// per request cost more than the rest of the pixel's handling.
func (s *Server) hitRoutes() []route {
	if s.cfg.Engage == nil {
		return nil
	}
	return []route{
		{"GET", "/o/{token}", s.pixel, false}, // HEAD too
		{"GET", "/c/{token}", s.click, false},
	}
}

// trackRequest is what the verdict on an open or click reads.
func (s *Server) trackRequest(r *http.Request) engage.Request {
	return engage.Request{Method: r.Method, UserAgent: r.UserAgent(), Purpose: engage.Purpose(r.Header),
		IP: s.clientIP(r), At: s.cfg.Now(), Header: r.Header}
}

// pixel is GET and HEAD /o/{token}: the open is recorded before the
// answer, and the answer is the pixel whatever came of it, a bad token and
// a database that is down included (the engagement counts that loss).
func (s *Server) pixel(w http.ResponseWriter, r *http.Request) {
	_ = s.cfg.Engage.Open(r.Context(), r.PathValue("token"), s.trackRequest(r))
	h := w.Header()
	h["Content-Type"], h["Content-Length"], h["Cache-Control"] = pixelType, pixelLength, noStore
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.WriteString(w, tracking.Pixel)
	}
}

// The pixel's and the links' header values, shared by every answer rather
// than a slice per header per request: the server copies a handler's
// header when it writes it, and nothing here changes them.
var (
	pixelType   = []string{tracking.PixelType}
	pixelLength = []string{strconv.Itoa(len(tracking.Pixel))}
	noStore     = []string{"no-store"}
	noReferrer  = []string{"no-referrer"}
)

// click is GET and HEAD /c/{token}: the click is recorded, then redirected
// to the link as the server's record of the mail has it. A bad or unknown
// token gets the not-found page; while the database is down a link the
// server knows still redirects, others get the try-again page.
func (s *Server) click(w http.ResponseWriter, r *http.Request) {
	target, err := s.cfg.Engage.Click(r.Context(), r.PathValue("token"), s.trackRequest(r))
	w.Header()["Cache-Control"] = noStore
	switch {
	case errors.Is(err, engage.ErrUnknown):
		s.fail(w, r, errNoLink)
	case target != "":
		w.Header()["Referrer-Policy"] = noReferrer
		redirect(w, r, target)
	case err != nil:
		s.fail(w, r, err)
	default: // the honeypot, which leads nowhere
		w.WriteHeader(http.StatusNoContent)
	}
}

// redirect answers 302 Found to target, an absolute http or https URL
// (the link set holds no other). http.Redirect parses the URL, to resolve
// a relative one, and writes an HTML note for it: two fifths of a click's
// handling. A target all ASCII goes into Location as it is, with no body
// (RFC 9110 calls the note usual, not required, and browsers and mail
// apps follow Location); one that is not is left to http.Redirect, which
// escapes it.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	for i := range len(target) {
		if target[i] >= utf8.RuneSelf {
			http.Redirect(w, r, target, http.StatusFound)
			return
		}
	}
	h := w.Header()
	h["Location"], h["Content-Length"] = []string{target}, zeroLength
	w.WriteHeader(http.StatusFound)
}

var zeroLength = []string{"0"}

// errNoLink is a tracking token that names no link of a mail sent.
var errNoLink = notFound("no such link")

type notFound string

func (e notFound) Error() string        { return string(e) }
func (e notFound) Is(target error) bool { return target == engage.ErrUnknown }

// eventIn is one event as the API takes it.
type eventIn struct {
	Lead           json.RawMessage `json:"lead"`
	Type           string          `json:"type"`
	URL            string          `json:"url"`
	At             *time.Time      `json:"at"`
	IdempotencyKey string          `json:"idempotency_key"`
}

const eventExample = `{"lead": "anna@example.com", "type": "demo_requested", "url": "https://acme.example/demo", "at": "2026-12-01T10:00:00Z", "idempotency_key": "crm-4711"}, or an array of such objects`

// postEvents is POST /api/v1/events: one event, or an array of them,
// recorded all or none.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	var raw json.RawMessage
	err := readBody(r, &raw, eventExample)
	var ins []eventIn
	if err == nil {
		err = decodeEvents(raw, &ins)
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	evs := make([]engage.Event, len(ins))
	for i, in := range ins {
		evs[i] = engage.Event{Lead: leadRef(in.Lead), Type: in.Type, URL: in.URL, IdempotencyKey: in.IdempotencyKey, Source: "api"}
		if in.At != nil {
			evs[i].At = *in.At
		}
	}
	recs, err := s.cfg.Engage.Record(r.Context(), evs)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	type out struct {
		ID        int64 `json:"id"`
		Lead      int64 `json:"lead"`
		Duplicate bool  `json:"duplicate"`
		Enrolled  int   `json:"enrolled"`
	}
	res := make([]out, len(recs))
	for i, rc := range recs {
		res[i] = out{rc.ID, rc.Lead, rc.Duplicate, rc.Enrolled}
	}
	if raw[firstByte(raw)] != '[' {
		writeJSON(w, http.StatusCreated, res[0])
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"events": res})
}

// decodeEvents reads one event object or an array of them, refusing
// unknown fields.
func decodeEvents(raw json.RawMessage, ins *[]eventIn) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var err error
	if raw[firstByte(raw)] == '[' {
		err = dec.Decode(ins)
		if err == nil && len(*ins) == 0 {
			return badRequest("the array is empty; send " + eventExample)
		}
	} else {
		var one eventIn
		err = dec.Decode(&one)
		*ins = []eventIn{one}
	}
	if err != nil {
		return badRequest(jsonError(err).Error() + "; send " + eventExample)
	}
	return nil
}

func firstByte(raw []byte) int {
	for i, b := range raw {
		if b != ' ' && b != '\t' && b != '\n' && b != '\r' {
			return i
		}
	}
	return 0
}

// leadRef is a lead as JSON names it: 42 or "anna@example.com".
func leadRef(raw json.RawMessage) string {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str
	}
	return string(raw)
}

// postLeadEvent is POST /api/v1/leads/{ref}/events: a custom event, such
// as demo_booked, recorded as POST /api/v1/events records it; it enrols
// the lead in the sequences it triggers.
func (s *Server) postLeadEvent(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Type           string `json:"type"`
		URL            string `json:"url"`
		IdempotencyKey string `json:"idempotency_key"`
	}
	err := readBody(r, &in, `{"type": "demo_booked"}`)
	if err == nil && !eventType.MatchString(in.Type) {
		err = badRequest(`send {"type": "demo_booked"}; a type is one word`)
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	recs, err := s.cfg.Engage.Record(r.Context(), []engage.Event{{Lead: r.PathValue("ref"), Type: in.Type, URL: in.URL, IdempotencyKey: in.IdempotencyKey, Source: "api"}})
	var ee *engage.EventError
	if errors.As(err, &ee) && ee.Unknown {
		err = errNoLead
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"lead": recs[0].Lead, "type": in.Type, "enrolled": recs[0].Enrolled, "duplicate": recs[0].Duplicate})
}

var errNoLead = notFound("no such lead")

// eventStats is GET /api/v1/events/stats: what the engagement recorded and
// lost since the process started.
func (s *Server) eventStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.cfg.Engage.Stats())
}
