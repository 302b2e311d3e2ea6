package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/engage"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/optin"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/webhook"
)

// statusOf is the one place where errors become HTTP statuses.
func statusOf(err error) int {
	var fe lead.FieldErrors
	var tooBig *http.MaxBytesError
	var ee *engage.EventError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &ee) && ee.Unknown:
		return http.StatusNotFound
	case errors.As(err, &ee):
		return http.StatusUnprocessableEntity
	case errors.Is(err, engage.ErrUnknown):
		return http.StatusNotFound
	case errors.As(err, &fe), errors.Is(err, dispatch.ErrInvalidStage):
		return http.StatusUnprocessableEntity
	case errors.As(err, &tooBig), errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, store.ErrNotFound): // optin's and dispatch's ErrNotFound too
		return http.StatusNotFound
	case errors.Is(err, optin.ErrExpired), errors.Is(err, optin.ErrRevoked):
		return http.StatusGone
	case errors.Is(err, optin.ErrRateLimited), errors.Is(err, errRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, dispatch.ErrNotEnrolled), errors.Is(err, optin.ErrNotConfirmed), errors.Is(err, webhook.ErrNoWebhook):
		return http.StatusConflict
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errNoRoute):
		return http.StatusNotFound
	case errors.Is(err, errNoMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized
	case store.Unavailable(err):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

var (
	errBadRequest   = errors.New("bad request")
	errNoRoute      = errors.New("no such endpoint; GET /api/v1 lists them")
	errNoMethod     = errors.New("this endpoint does not take that method")
	errTooLarge     = errors.New("request body too large")
	errRateLimited  = errors.New("too many requests from this address, try again in a minute")
	errUnauthorized = errors.New("missing or wrong bearer token")
)

// badRequest is a 400 whose text is written for the client: what is wrong
// with the request and what to send instead.
type badRequest string

func (e badRequest) Error() string        { return string(e) }
func (e badRequest) Is(target error) bool { return target == errBadRequest }

// message is what a client is told: words for the person or program that
// sent the request, never an error's internal text, which names packages.
func message(err error) string {
	var fe lead.FieldErrors
	var br badRequest
	var ee *engage.EventError
	var nf notFound
	switch status := statusOf(err); {
	case errors.As(err, &ee):
		return ee.Error()
	case errors.As(err, &nf):
		return nf.Error()
	case errors.As(err, &fe):
		return "some fields are not valid: see fields"
	case errors.Is(err, dispatch.ErrInvalidStage):
		return "stage must be one of " + lead.StageNames()
	case status == http.StatusRequestEntityTooLarge:
		return errTooLarge.Error()
	case errors.Is(err, errNoRoute):
		return errNoRoute.Error()
	case errors.Is(err, errNoMethod):
		return errNoMethod.Error()
	case status == http.StatusNotFound:
		return "not found"
	case errors.Is(err, optin.ErrRevoked):
		return "this confirmation link is no longer valid"
	case status == http.StatusGone:
		return "this confirmation link has expired"
	case status == http.StatusTooManyRequests:
		return "too many requests, try again later"
	case status == http.StatusServiceUnavailable:
		return "the service is briefly unavailable; please try again in a few seconds"
	case errors.Is(err, optin.ErrNotConfirmed):
		return "the lead is not confirmed: confirming applies the tracking answer of the signup it confirms"
	case errors.Is(err, webhook.ErrNoWebhook):
		return "scoring.yaml names no handoff webhook to deliver to"
	case status == http.StatusConflict:
		return "the lead was not enrolled: it is not confirmed, or it is in this sequence already"
	case errors.As(err, &br):
		return br.Error()
	case status == http.StatusBadRequest:
		return "bad request"
	case status == http.StatusUnauthorized:
		return errUnauthorized.Error()
	default:
		return "internal error"
	}
}

// methodOrRoute answers, under /api/, the requests no route takes, in
// JSON like every other API error: 405 with Allow, or 404.
func methodOrRoute(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" || !strings.HasPrefix(r.URL.Path, "/api/") {
			mux.ServeHTTP(w, r)
			return
		}
		// The mux's own answer says which: 405 (with Allow) or 404.
		probe := &statusProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeError(w, errNoMethod)
			return
		}
		writeError(w, errNoRoute)
	})
}

// statusProbe keeps only the status and headers a handler writes.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}
func (p *statusProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}
