package campaign

import (
	"testing"
	"time"
)

func TestTimeline_AppliesDelaysThenTheWindow(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	set := loadFiles(t, map[string]string{
		"n/sequence.md":      "---\ntrigger: confirmed\nsend_window: Mon-Fri 09:00-17:00\ntimezone: lead\n---\n",
		"n/01-welcome.md":    "---\nsubject: Welcome\ndelay: 0\n---\nHi.",
		"n/02-guide.md":      "---\nsubject: Guide\ndelay: 2d\n---\nHi.",
		"n/03-nudge.md":      "---\nsubject: Nudge\ndelay: 3d\nif: not clicked(previous)\n---\nHi.",
		"n/04-soon.md":       "---\nsubject: Soon\ndelay: 30m\n---\nHi.",
		"n/05-spring.md":     "---\nsubject: Spring\ndelay: 2w\n---\nHi.",
		"n/06-late-shift.md": "---\nsubject: Late\ndelay: 7h45m\n---\nHi.",
	})
	q := set.Sequence("n")
	// A lead confirms on Friday 27 February 2026 at 22:10 in Berlin.
	start := time.Date(2026, 2, 27, 22, 10, 0, 0, berlin)
	plan := Timeline(q, start, berlin)
	want := []struct{ due, at string }{
		{"2026-02-27 22:10 CET", "2026-03-02 09:00 CET"}, // the weekend waits for Monday
		{"2026-03-04 09:00 CET", "2026-03-04 09:00 CET"},
		{"2026-03-07 09:00 CET", "2026-03-09 09:00 CET"}, // Saturday → Monday
		{"2026-03-09 09:30 CET", "2026-03-09 09:30 CET"},
		{"2026-03-23 09:30 CET", "2026-03-23 09:30 CET"},
		{"2026-03-23 17:15 CET", "2026-03-24 09:00 CET"}, // after hours → next morning
	}
	if len(plan) != len(want) {
		t.Fatalf("%d planned, want %d", len(plan), len(want))
	}
	const layout = "2006-01-02 15:04 MST"
	for i, p := range plan {
		if p.Step != q.Steps[i] {
			t.Errorf("%d: step %s, want %s", i, p.Step.Key(), q.Steps[i].Key())
		}
		if got := p.Due.In(berlin).Format(layout); got != want[i].due {
			t.Errorf("%s: due %s, want %s", p.Step.Key(), got, want[i].due)
		}
		if got := p.At.In(berlin).Format(layout); got != want[i].at {
			t.Errorf("%s: at %s, want %s", p.Step.Key(), got, want[i].at)
		}
	}
}

func TestTimeline_KeepsTheWallClockAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	set := loadFiles(t, map[string]string{
		"n/sequence.md": "---\ntrigger: confirmed\nsend_window: daily 08:00-20:00\n---\n",
		"n/01-a.md":     "---\nsubject: A\ndelay: 0\n---\nHi.",
		"n/02-b.md":     "---\nsubject: B\ndelay: 1d\n---\nHi.",
		"n/03-c.md":     "---\nsubject: C\ndelay: 24h\n---\nHi.",
		"n/04-d.md":     "---\nsubject: D\ndelay: 30w\n---\nHi.",
	})
	start := time.Date(2026, 3, 28, 10, 0, 0, 0, berlin)
	plan := Timeline(set.Sequence("n"), start, berlin)
	want := []string{
		"2026-03-28 10:00 CET",
		"2026-03-29 10:00 CEST", // a calendar day: same wall clock, 23 hours later
		"2026-03-30 10:00 CEST", // 24 hours
		"2026-10-26 10:00 CET",  // 30 weeks, back in winter time
	}
	for i, p := range plan {
		if got := p.At.Format("2006-01-02 15:04 MST"); got != want[i] {
			t.Errorf("%s: %s, want %s", p.Step.Key(), got, want[i])
		}
	}
}
