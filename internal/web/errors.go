package web

import (
	"errors"
	"net/http"

	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/optin"
	"github.com/nurture/nurture/internal/store"
)

// retryAfter is the Retry-After, in seconds, of a 503: the database is
// away, which a restart makes a matter of seconds.
const retryAfter = "5"

// setRetryAfter tells the client when to try again, for the statuses that
// mean "not now".
func setRetryAfter(w http.ResponseWriter, status int) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfter)
	}
}

// statusOf is the one place where errors become HTTP statuses.
func statusOf(err error) int {
	var fe lead.FieldErrors
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &fe), errors.Is(err, dispatch.ErrInvalidStage):
		return http.StatusUnprocessableEntity
	case errors.As(err, &tooBig), errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, optin.ErrNotFound), errors.Is(err, dispatch.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, optin.ErrExpired), errors.Is(err, optin.ErrRevoked):
		return http.StatusGone
	case errors.Is(err, optin.ErrRateLimited), errors.Is(err, errRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, dispatch.ErrNotEnrolled):
		return http.StatusConflict
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, errChallenge):
		return http.StatusForbidden
	case store.Unavailable(err):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

var (
	errBadRequest   = errors.New("bad request")
	errTooLarge     = errors.New("request body too large")
	errRateLimited  = errors.New("too many requests from this address, try again in a minute")
	errUnauthorized = errors.New("missing or wrong bearer token")
	errChallenge    = errors.New("the anti-abuse check failed")
)

// message is what a client is told; internal errors say nothing more.
func message(err error) string {
	var fe lead.FieldErrors
	switch status := statusOf(err); {
	case errors.As(err, &fe):
		return "invalid signup"
	case errors.Is(err, dispatch.ErrInvalidStage):
		return "stage must be one of " + lead.StageNames()
	case status == http.StatusRequestEntityTooLarge:
		return errTooLarge.Error()
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
	case status >= 500:
		return "internal error"
	default:
		return err.Error()
	}
}
