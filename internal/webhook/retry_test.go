package webhook

import (
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

// Under the default schedule and a controlled clock, a receiver that never
// answers 2xx is tried for at least a day, with growing, jittered delays,
// and within River's bound on attempts.
func TestRetry_DefaultScheduleSpansADay(t *testing.T) {
	r := DefaultRetry.withDefaults()
	for _, rnd := range []func() float64{
		func() float64 { return 0 },      // every delay at its shortest
		func() float64 { return 0.9999 }, // at its longest
		rand.New(rand.NewPCG(1, 2)).Float64,
	} {
		first := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		now, attempts := first, 1
		var delays []time.Duration
		for !r.GiveUp(first, now) {
			d := r.Delay(attempts, rnd)
			delays = append(delays, d)
			now = now.Add(d)
			attempts++
			if attempts > r.MaxAttempts {
				t.Fatalf("River's %d attempts run out after %v, before a day", r.MaxAttempts, now.Sub(first))
			}
		}
		if span := now.Sub(first); span < 24*time.Hour || span > 24*time.Hour+r.Max*6/5 {
			t.Errorf("the last attempt is %v after the first, want at least 24h and at most one delay more", span)
		}
		for i, d := range delays {
			nominal := min(r.Base<<i, r.Max)
			if d < nominal*4/5 || d > nominal*6/5 {
				t.Errorf("delay %d = %v, want %v ± 20%%", i+1, d, nominal)
			}
		}
		if delays[0] > time.Minute || delays[len(delays)-1] < 3*time.Hour {
			t.Errorf("delays run from %v to %v, want seconds to hours", delays[0], delays[len(delays)-1])
		}
	}
}

// Jitter spreads the retries of many deliveries that failed at once.
func TestRetry_JitterSpreadsDelays(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4)).Float64
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[DefaultRetry.Delay(5, rnd)] = true
	}
	if len(seen) < 15 {
		t.Errorf("20 delays took only %d values", len(seen))
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		status int
		header string
		want   time.Duration
		ok     bool
	}{
		{503, "120", 120 * time.Second, true},
		{429, "0", 10 * time.Second, true},
		{429, "3", 10 * time.Second, true},
		{429, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{503, now.Add(-time.Hour).Format(http.TimeFormat), 10 * time.Second, true},
		{503, "999999999", 24 * time.Hour, true},
		{503, "", 0, false},
		{503, "soon", 0, false},
		{503, "-5", 0, false},
		{500, "120", 0, false},
	} {
		res := &http.Response{StatusCode: tc.status, Header: http.Header{}}
		if tc.header != "" {
			res.Header.Set("Retry-After", tc.header)
		}
		got, ok := retryAfter(res, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%d Retry-After %q = %v, %v; want %v, %v", tc.status, tc.header, got, ok, tc.want, tc.ok)
		}
	}
}
