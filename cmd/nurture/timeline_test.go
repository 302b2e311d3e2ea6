package main

import (
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/templates"
)

// timelineSet loads campaign files (path → content) written to a new
// temporary folder, with the built-in layouts, and fails the test on any
// error.
func timelineSet(t *testing.T, files map[string]string) *campaign.Set {
	t.Helper()
	set, ps := campaign.Load(writeCampaigns(t, files), templates.FS)
	if set == nil {
		t.Fatalf("Load failed: %v", ps)
	}
	return set
}

// berlinTimeline is the timeline of q from start, as the command prints
// it for a lead in berlin.
func berlinTimeline(t *testing.T, q *campaign.Sequence, start time.Time, berlin *time.Location) string {
	t.Helper()
	var b strings.Builder
	if err := formatTimeline(&b, q, start, zone{berlin, "the lead's"}, campaign.Timeline(q, start, berlin)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestTimeline_AStepsOwnWindowOverridesTheSequences(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	set := timelineSet(t, map[string]string{
		"n/sequence.md":    "---\ntrigger: confirmed\nsend_window: Mon-Fri 09:00-17:00\n---\n",
		"n/01-download.md": "---\nsubject: Your copy\ndelay: 0\nsend_window: any\n---\nHi.",
		"n/02-weekend.md":  "---\nsubject: Weekend read\ndelay: 0\nsend_window: Sat-Sun 10:00-14:00\n---\nHi.",
		"n/03-office.md":   "---\nsubject: Back at work\ndelay: 1h\n---\nHi.",
	})
	q := set.Sequence("n")
	start := time.Date(2026, 3, 6, 21, 30, 0, 0, berlin) // a Friday evening
	out := berlinTimeline(t, q, start, berlin)
	for _, want := range []string{
		"01-download  0      Fri 2026-03-06 21:30 CET  0m           own window: any time\n",
		"02-weekend   0      Sat 2026-03-07 10:00 CET  12h 30m      own window: Sat,Sun 10:00-14:00; window moved it from Fri 21:30\n",
		"03-office    1h     Mon 2026-03-09 09:00 CET  2d 11h 30m   window moved it from Sat 11:00\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("timeline lacks %q:\n%s", want, out)
		}
	}
}

func TestFormatTimeline_NotesWindowMovesAndConditions(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	set := timelineSet(t, map[string]string{
		"n/sequence.md":   "---\nname: E-book nurture\ntrigger: confirmed\nsources: [ebook]\nexit:\n  event: demo_booked\nsend_window: Mon-Fri 09:00-17:00\n---\n",
		"n/01-welcome.md": "---\nsubject: Welcome\ndelay: 0\n---\nHi.",
		"n/02-nudge.md":   "---\nsubject: Nudge\ndelay: 3d\nif: not clicked(previous)\n---\nHi.",
	})
	q := set.Sequence("n")
	start := time.Date(2026, 3, 5, 10, 0, 0, 0, berlin)
	out := berlinTimeline(t, q, start, berlin)
	want := `n: E-book nurture
  trigger  confirmed, from ebook
  window   Mon-Fri 09:00-17:00, time zone Europe/Berlin (the lead's)
  exit     event demo_booked, unsubscribe, bounce
  start    Thu 2026-03-05 10:00 CET

  STEP        DELAY  SENDS                     AFTER START  NOTE
  01-welcome  0      Thu 2026-03-05 10:00 CET  0m
  02-nudge    3d     Mon 2026-03-09 09:00 CET  3d 23h       window moved it from Sun 10:00; only if not clicked(previous) (else skipped)
`
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

func TestTimelineZone_PrefersTheSequencesOwnZone(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	own := &campaign.Sequence{Timezone: "lead"}
	fixed := timelineSet(t, map[string]string{"n/sequence.md": "---\ntrigger: confirmed\ntimezone: Asia/Tokyo\n---\n"}).Sequence("n")
	for _, tt := range []struct {
		q           *campaign.Sequence
		tz          string
		want, whose string
	}{
		{own, "", "Europe/Berlin", "the server's default, for leads without a time zone; --tz shows another"},
		{own, "America/Chicago", "America/Chicago", "the lead's"},
		{fixed, "", "Asia/Tokyo", "the sequence's own"},
		{fixed, "America/Chicago", "Asia/Tokyo", "the sequence's own; --tz America/Chicago does not apply"},
	} {
		z, err := timelineZone(tt.q, tt.tz, berlin)
		if err != nil || z.Loc.String() != tt.want || z.Whose != tt.whose {
			t.Errorf("timelineZone(%s, %q) = %v (%q), %v; want %s (%q)", tt.q.Timezone, tt.tz, z.Loc, z.Whose, err, tt.want, tt.whose)
		}
	}
	if _, err := timelineZone(own, "Berlin", berlin); err == nil {
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
		got, err := parseStart(in, berlin, now)
		if err != nil || got.Format("2006-01-02 15:04 MST") != want {
			t.Errorf("parseStart(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := parseStart("next monday", berlin, now); err == nil {
		t.Error("ParseStart accepted words")
	}
}
