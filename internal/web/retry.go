package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/nurture/nurture/internal/ratelimit"
)

// Retry-After for answers that do not know better: a 503 (the database
// away, a request that timed out) is worth trying again soon; a 429 whose
// limit said nothing gets the per-IP limit's period.
const (
	retryUnavailable = 5 * time.Second
	retryLimited     = time.Minute
)

// retryAfter makes every 429 and 503 carry Retry-After (RFC 9110 §10.2.3),
// whoever writes it: a handler that knows when to come back sets it first,
// and anything else (http.TimeoutHandler, a page) gets the default.
func retryAfter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&retryWriter{ResponseWriter: w}, r)
	})
}

type retryWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *retryWriter) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		h := w.Header()
		if h.Get("Retry-After") == "" {
			switch status {
			case http.StatusServiceUnavailable:
				setRetryAfter(h, retryUnavailable)
			case http.StatusTooManyRequests:
				setRetryAfter(h, retryLimited)
			}
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *retryWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *retryWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// setRetryAfter writes d in whole seconds, rounded up, at least 1.
func setRetryAfter(h http.Header, d time.Duration) {
	secs := max(1, int64(math.Ceil(d.Seconds())))
	h.Set("Retry-After", strconv.FormatInt(secs, 10))
}

// retryHint sets Retry-After for an error that means "not now": a rate
// limit's own wait, or a few seconds for a database that is away.
func retryHint(w http.ResponseWriter, err error) {
	var l *ratelimit.Limited
	switch {
	case errors.As(err, &l):
		setRetryAfter(w.Header(), l.After)
	case statusOf(err) == http.StatusServiceUnavailable:
		setRetryAfter(w.Header(), retryUnavailable)
	}
}
