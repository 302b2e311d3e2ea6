package funnel

import (
	"testing"
	"time"
)

// A stream of wake-ups keeps every one's look: the first is not pushed
// back by those after it, and the scorer falls back to its tick after the
// last.
func TestLookups_EachWakeUpKeepsItsOwnLook(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var l lookups
	for i := range 40 { // a wake-up every 25 ms for a second
		l.add(t0.Add(time.Duration(i) * 25 * time.Millisecond).Add(2 * time.Second))
	}
	if len(l) != 21 {
		t.Fatalf("%d looks for 40 wake-ups 25 ms apart, want 21 (one per 50 ms, from 0 to 1000)", len(l))
	}
	for i := 1; i < len(l); i++ {
		if !l[i].After(l[i-1]) {
			t.Fatalf("looks out of order: %v", l)
		}
	}
	if got := l.wait(t0.Add(time.Second), 5*time.Second); got != time.Second {
		t.Errorf("a second after the first wake-up the next look is in %v, want 1s", got)
	}
	l.pass(t0.Add(2 * time.Second))
	if got := l.wait(t0.Add(2*time.Second), 5*time.Second); got != 50*time.Millisecond {
		t.Errorf("after the first look the next is in %v, want 50ms", got)
	}
	// A look is never early: one asked for 10 ms past a boundary comes at
	// the next one.
	var m lookups
	m.add(t0.Add(10 * time.Millisecond))
	if len(m) != 1 || !m[0].Equal(t0.Add(50*time.Millisecond)) {
		t.Errorf("a look asked for at +10ms is at %v, want +50ms", m)
	}
	l.pass(t0.Add(3 * time.Second))
	if got := l.wait(t0.Add(3*time.Second), 5*time.Second); got != 5*time.Second || len(l) != 0 {
		t.Errorf("after the last look: wait %v with %d pending, want the 5s tick and none", got, len(l))
	}
	l.add(t0)
	if got := l.wait(t0.Add(time.Second), 5*time.Second); got != 0 {
		t.Errorf("an overdue look waits %v, want 0", got)
	}
}
