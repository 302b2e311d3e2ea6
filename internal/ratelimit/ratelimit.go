package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Keyed limits events per key to n per period, with bursts of n.
type Keyed struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New allows n events per period per key; n = 0 allows everything.
func New(n int, period time.Duration) *Keyed {
	k := &Keyed{burst: n, buckets: map[string]*bucket{}}
	if n > 0 {
		k.every = rate.Limit(float64(n) / period.Seconds())
	}
	return k
}

// Allow reports whether one more event for key may happen at now.
func (k *Keyed) Allow(key string, now time.Time) bool {
	if k.burst == 0 {
		return true
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.forget(now)
	b := k.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(k.every, k.burst)}
		k.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// Retry is how long after now the next event for key will be allowed: 0
// when it may happen now.
func (k *Keyed) Retry(key string, now time.Time) time.Duration {
	if k.burst == 0 {
		return 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil {
		return 0
	}
	missing := 1 - b.lim.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(k.every) * float64(time.Second))
}

// Limited is the error of an event refused by a limit: After says when the
// next one will be allowed.
type Limited struct {
	Err   error
	After time.Duration
}

func (l *Limited) Error() string { return l.Err.Error() }
func (l *Limited) Unwrap() error { return l.Err }

// forget drops buckets idle long enough to be full again, once a minute.
func (k *Keyed) forget(now time.Time) {
	if now.Sub(k.sweep) < time.Minute {
		return
	}
	k.sweep = now
	full := time.Duration(float64(k.burst) / float64(k.every) * float64(time.Second))
	for key, b := range k.buckets {
		if now.Sub(b.seen) > full {
			delete(k.buckets, key)
		}
	}
}
