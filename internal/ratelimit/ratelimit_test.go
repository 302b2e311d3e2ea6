package ratelimit

import (
	"testing"
	"time"
)

func TestKeyed_LimitsPerKeyAndRefills(t *testing.T) {
	k := New(3, time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if !k.Allow("a", now) {
			t.Fatalf("event %d refused", i)
		}
	}
	if k.Allow("a", now) {
		t.Fatal("fourth event in a minute allowed")
	}
	if !k.Allow("b", now) {
		t.Fatal("other key limited")
	}
	if !k.Allow("a", now.Add(20*time.Second)) {
		t.Fatal("bucket did not refill")
	}
}

func TestKeyed_ZeroMeansUnlimited(t *testing.T) {
	k := New(0, time.Minute)
	for range 1000 {
		if !k.Allow("a", time.Time{}) {
			t.Fatal("limited")
		}
	}
}

func TestKeyed_ForgetsIdleKeys(t *testing.T) {
	k := New(1, time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k.Allow("a", now)
	k.Allow("b", now.Add(2*time.Minute))
	if _, ok := k.buckets["a"]; ok {
		t.Fatal("idle bucket kept")
	}
}

func TestKeyed_RetrySaysWhenTheNextEventIsAllowed(t *testing.T) {
	k := New(5, time.Hour) // one event every 12 minutes
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if d := k.Retry("a", now); d != 0 {
		t.Fatalf("unseen key: retry after %v", d)
	}
	for range 5 {
		k.Allow("a", now)
	}
	if k.Allow("a", now) {
		t.Fatal("sixth event allowed")
	}
	d := k.Retry("a", now)
	if d < 11*time.Minute || d > 12*time.Minute {
		t.Fatalf("retry after %v, want about 12m", d)
	}
	if !k.Allow("a", now.Add(d+time.Second)) {
		t.Fatalf("refused after the retry time %v", d)
	}
	if d := New(0, time.Hour).Retry("a", now); d != 0 {
		t.Fatalf("unlimited: retry after %v", d)
	}
}
