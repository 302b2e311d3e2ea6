package campaign

import (
	"strings"
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

func TestTimeline_AStepsOwnWindowOverridesTheSequences(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	set := loadFiles(t, map[string]string{
		"n/sequence.md":    "---\ntrigger: confirmed\nsend_window: Mon-Fri 09:00-17:00\n---\n",
		"n/01-download.md": "---\nsubject: Your copy\ndelay: 0\nsend_window: any\n---\nHi.",
		"n/02-weekend.md":  "---\nsubject: Weekend read\ndelay: 0\nsend_window: Sat-Sun 10:00-14:00\n---\nHi.",
		"n/03-office.md":   "---\nsubject: Back at work\ndelay: 1h\n---\nHi.",
	})
	q := set.Sequence("n")
	start := time.Date(2026, 3, 6, 21, 30, 0, 0, berlin) // a Friday evening
	var b strings.Builder
	if err := FormatTimeline(&b, q, start, Zone{berlin, "the lead's"}, Timeline(q, start, berlin)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"01-download  0      Fri 2026-03-06 21:30 CET  0m           own window: any time\n",
		"02-weekend   0      Sat 2026-03-07 10:00 CET  12h 30m      own window: Sat,Sun 10:00-14:00; window moved it from Fri 21:30\n",
		"03-office    1h     Mon 2026-03-09 09:00 CET  2d 11h 30m   window moved it from Sat 11:00\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("timeline lacks %q:\n%s", want, b.String())
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

func TestFormatTimeline_NotesWindowMovesAndConditions(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	set := loadFiles(t, map[string]string{
		"n/sequence.md":   "---\nname: E-book nurture\ntrigger: confirmed\nsources: [ebook]\nexit:\n  event: demo_booked\nsend_window: Mon-Fri 09:00-17:00\n---\n",
		"n/01-welcome.md": "---\nsubject: Welcome\ndelay: 0\n---\nHi.",
		"n/02-nudge.md":   "---\nsubject: Nudge\ndelay: 3d\nif: not clicked(previous)\n---\nHi.",
	})
	q := set.Sequence("n")
	start := time.Date(2026, 3, 5, 10, 0, 0, 0, berlin)
	var b strings.Builder
	if err := FormatTimeline(&b, q, start, Zone{berlin, "the lead's"}, Timeline(q, start, berlin)); err != nil {
		t.Fatal(err)
	}
	want := `n: E-book nurture
  trigger  confirmed, from ebook
  window   Mon-Fri 09:00-17:00, time zone Europe/Berlin (the lead's)
  exit     event demo_booked, unsubscribe, bounce
  start    Thu 2026-03-05 10:00 CET

  STEP        DELAY  SENDS                     AFTER START  NOTE
  01-welcome  0      Thu 2026-03-05 10:00 CET  0m
  02-nudge    3d     Mon 2026-03-09 09:00 CET  3d 23h       window moved it from Sun 10:00; only if not clicked(previous) (else skipped)
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestTimelineZone_PrefersTheSequencesOwnZone(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	own := &Sequence{Timezone: "lead"}
	fixed := &Sequence{Timezone: "Asia/Tokyo", loc: mustZone(t, "Asia/Tokyo")}
	for _, tt := range []struct {
		q           *Sequence
		tz          string
		want, whose string
	}{
		{own, "", "Europe/Berlin", "the server's default, for leads without a time zone; --tz shows another"},
		{own, "America/Chicago", "America/Chicago", "the lead's"},
		{fixed, "", "Asia/Tokyo", "the sequence's own"},
		{fixed, "America/Chicago", "Asia/Tokyo", "the sequence's own; --tz America/Chicago does not apply"},
	} {
		z, err := TimelineZone(tt.q, tt.tz, berlin)
		if err != nil || z.Loc.String() != tt.want || z.Whose != tt.whose {
			t.Errorf("TimelineZone(%s, %q) = %v (%q), %v; want %s (%q)", tt.q.Timezone, tt.tz, z.Loc, z.Whose, err, tt.want, tt.whose)
		}
	}
	if _, err := TimelineZone(own, "Berlin", berlin); err == nil {
		t.Error("an unknown zone was accepted")
	}
}

func TestParseStart_ReadsDatesAndTimesInTheZone(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]string{
		"":                          "2026-05-04 14:00 CEST",
		"2026-03-02 10:00":          "2026-03-02 10:00 CET",
		"2026-03-02T10:00":          "2026-03-02 10:00 CET",
		"2026-03-02":                "2026-03-02 09:00 CET",
		"2026-03-02T10:00:00Z":      "2026-03-02 11:00 CET",
		"2026-07-01T08:00:00+02:00": "2026-07-01 08:00 CEST",
	} {
		got, err := ParseStart(in, berlin, now)
		if err != nil || got.Format("2006-01-02 15:04 MST") != want {
			t.Errorf("ParseStart(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseStart("next monday", berlin, now); err == nil {
		t.Error("ParseStart accepted words")
	}
}
