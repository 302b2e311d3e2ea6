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
