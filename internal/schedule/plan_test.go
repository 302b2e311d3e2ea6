package schedule

import (
	"testing"
	"time"
)

func TestPlan_EachDelayCountsFromWhenTheMailBeforeWentOut(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	office, err := ParseWindow("Mon-Fri 09:00-17:00")
	if err != nil {
		t.Fatal(err)
	}
	delay := func(s string) Delay {
		d, err := ParseDelay(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// Friday 6 March 2026, 21:30 in Berlin.
	start := time.Date(2026, 3, 6, 21, 30, 0, 0, berlin)
	slots := Plan(start, berlin, []Wait{
		{Delay: delay("0")},                     // any time: at once
		{Delay: delay("1h"), Window: office},    // Friday 22:30 waits for Monday
		{Delay: delay("1d"), Window: office},    // from Monday 09:00, not from Friday
		{Delay: delay("30m"), Window: Window{}}, // its own window: any time
	})
	want := []struct{ due, at string }{
		{"2026-03-06 21:30", "2026-03-06 21:30"},
		{"2026-03-06 22:30", "2026-03-09 09:00"},
		{"2026-03-10 09:00", "2026-03-10 09:00"},
		{"2026-03-10 09:30", "2026-03-10 09:30"},
	}
	if len(slots) != len(want) {
		t.Fatalf("%d slots, want %d", len(slots), len(want))
	}
	const layout = "2006-01-02 15:04"
	for i, s := range slots {
		if got := s.Due.In(berlin).Format(layout); got != want[i].due {
			t.Errorf("%d: due %s, want %s", i, got, want[i].due)
		}
		if got := s.At.Format(layout); got != want[i].at || s.At.Location() != berlin {
			t.Errorf("%d: at %s in %s, want %s in Europe/Berlin", i, got, s.At.Location(), want[i].at)
		}
	}
	if got := Plan(start, berlin, nil); len(got) != 0 {
		t.Errorf("Plan without waits = %v", got)
	}
}
