package scoring

import (
	"testing"
	"time"
)

func TestDecayed_StoredEngagementReadsCurrentWithinAPointOfTheLedger(t *testing.T) {
	r := &Rules{HalfLife: 30 * 24 * time.Hour}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ledger := []Entry{{At: t0, Points: 40}, {At: t0.Add(5 * 24 * time.Hour), Points: 17}, {At: t0.Add(9 * 24 * time.Hour), Points: -10}}
	at := t0.Add(10 * 24 * time.Hour)
	stored := r.Engagement(ledger, at).Points
	for _, later := range []time.Duration{0, time.Hour, 24 * time.Hour, 30 * 24 * time.Hour, 95 * 24 * time.Hour} {
		now := at.Add(later)
		want := r.Engagement(ledger, now).Points
		if got := r.Decayed(stored, at, now); got < want-1 || got > want+1 {
			t.Errorf("%v later: Decayed = %d, the ledger says %d", later, got, want)
		}
	}
	if got := (&Rules{}).Decayed(stored, at, at.Add(1000*time.Hour)); got != stored {
		t.Errorf("without a half-life: %d, want %d", got, stored)
	}
	if got := r.Decayed(40, t0, t0.Add(30*24*time.Hour)); got != 20 {
		t.Errorf("one half-life: %d, want 20", got)
	}
}
