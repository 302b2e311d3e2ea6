package webhook

import (
	"cmp"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry is when failed deliveries are tried again: after Base, doubling up
// to Max, each delay jittered by ±Jitter of itself, for at least For after
// a delivery's first attempt. A delivery that fails once For has passed is
// given up.
type Retry struct {
	Base   time.Duration // default 30s
	Max    time.Duration // default 4h
	Jitter float64       // a fraction, default 0.2; below 0 none
	For    time.Duration // default 24h
	// MaxAttempts is River's bound on a job's failed attempts, kept far
	// above what For takes so that For ends a delivery; default 40.
	MaxAttempts int
}

// DefaultRetry is the schedule deliveries use unless a test sets another:
// 30s, 1m, 2m, … 4h, 4h, … until a day has passed.
var DefaultRetry = Retry{Base: 30 * time.Second, Max: 4 * time.Hour, Jitter: 0.2, For: 24 * time.Hour, MaxAttempts: 40}

func (r Retry) withDefaults() Retry {
	r.Base = cmp.Or(r.Base, DefaultRetry.Base)
	r.Max = max(cmp.Or(r.Max, DefaultRetry.Max), r.Base)
	if r.Jitter == 0 {
		r.Jitter = DefaultRetry.Jitter
	}
	r.Jitter = min(max(r.Jitter, 0), 0.9)
	r.For = cmp.Or(r.For, DefaultRetry.For)
	r.MaxAttempts = cmp.Or(r.MaxAttempts, DefaultRetry.MaxAttempts)
	return r
}

// Delay is the wait after the nth failed attempt (n ≥ 1); rnd returns a
// number in [0, 1), such as rand.Float64.
func (r Retry) Delay(n int, rnd func() float64) time.Duration {
	r = r.withDefaults()
	d := float64(r.Max)
	if n < 63 {
		d = min(float64(r.Base)*math.Pow(2, float64(max(n, 1)-1)), float64(r.Max))
	}
	d *= 1 + r.Jitter*(2*rnd()-1)
	return time.Duration(d)
}

// GiveUp reports whether a delivery whose first attempt was at first, and
// whose attempt at now failed, is given up.
func (r Retry) GiveUp(first, now time.Time) bool {
	return now.Sub(first) >= r.withDefaults().For
}

// retryAfter is how long a 429 or 503 answer asks the sender to wait: its
// Retry-After in seconds or as an HTTP date. ok is false when there is no
// such answer or header.
func retryAfter(res *http.Response, now time.Time) (time.Duration, bool) {
	if res.StatusCode != http.StatusTooManyRequests && res.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(res.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return max(time.Duration(min(s, int64(maxRetryAfter/time.Second)))*time.Second, minRetryAfter), true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(at.Sub(now), minRetryAfter), maxRetryAfter), true
}

// maxRetryAfter bounds a receiver's Retry-After: a day, the span of the
// retries themselves. minRetryAfter is the least wait it can ask for: a
// receiver that keeps answering Retry-After: 0 is tried every 10 seconds,
// not every second the queue polls, for the day the retries last.
const (
	maxRetryAfter = 24 * time.Hour
	minRetryAfter = 10 * time.Second
)
