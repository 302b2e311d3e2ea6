package schedule

import (
	"testing"
	"time"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

func TestWindowNext_FindsTheEarliestInstantInside(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	newYork := mustZone(t, "America/New_York")
	tokyo := mustZone(t, "Asia/Tokyo")
	at := func(loc *time.Location, y int, m time.Month, d, h, mi int) time.Time {
		return time.Date(y, m, d, h, mi, 0, 0, loc)
	}
	tests := []struct {
		name   string
		window string
		loc    *time.Location
		from   time.Time
		want   time.Time
	}{
		// Ordinary weeks (March 2026: Monday is the 2nd).
		{"inside stays", "Mon-Fri 09:00-17:00", berlin, at(berlin, 2026, 3, 3, 10, 15), at(berlin, 2026, 3, 3, 10, 15)},
		{"exactly at the start", "Mon-Fri 09:00-17:00", berlin, at(berlin, 2026, 3, 3, 9, 0), at(berlin, 2026, 3, 3, 9, 0)},
		{"before the start waits", "Mon-Fri 09:00-17:00", berlin, at(berlin, 2026, 3, 3, 7, 0), at(berlin, 2026, 3, 3, 9, 0)},
		{"the end is outside", "Mon-Fri 09:00-17:00", berlin, at(berlin, 2026, 3, 3, 17, 0), at(berlin, 2026, 3, 4, 9, 0)},
		{"a second before the end is inside", "Mon-Fri 09:00-17:00", berlin, at(berlin, 2026, 3, 3, 16, 59).Add(59 * time.Second), at(berlin, 2026, 3, 3, 16, 59).Add(59 * time.Second)},
		{"friday evening waits for monday", "Mon-Fri 09:00-17:00", berlin, at(berlin, 2026, 3, 6, 17, 30), at(berlin, 2026, 3, 9, 9, 0)},
		{"saturday waits for monday", "Mon-Fri 09:00-17:00", berlin, at(berlin, 2026, 3, 7, 12, 0), at(berlin, 2026, 3, 9, 9, 0)},
		{"listed days skip the others", "Mon,Wed,Fri 10:00-12:00", berlin, at(berlin, 2026, 3, 3, 11, 0), at(berlin, 2026, 3, 4, 10, 0)},
		{"daily after hours waits for the morning", "daily 08:00-20:00", berlin, at(berlin, 2026, 3, 7, 21, 0), at(berlin, 2026, 3, 8, 8, 0)},
		{"weekend window from a wednesday", "Sat-Sun 10:00-14:00", berlin, at(berlin, 2026, 3, 4, 9, 0), at(berlin, 2026, 3, 7, 10, 0)},
		{"day range across the week's end", "Fri-Mon 10:00-11:00", berlin, at(berlin, 2026, 3, 3, 10, 30), at(berlin, 2026, 3, 6, 10, 0)},
		{"one day a week comes back a week later", "Mon 09:00-10:00", berlin, at(berlin, 2026, 3, 2, 10, 0), at(berlin, 2026, 3, 9, 9, 0)},
		{"gap between two parts", "Mon-Fri 09:00-12:00; Mon-Fri 14:00-17:00", berlin, at(berlin, 2026, 3, 3, 12, 30), at(berlin, 2026, 3, 3, 14, 0)},
		{"window up to midnight", "daily 22:00-24:00", berlin, at(berlin, 2026, 3, 3, 23, 59), at(berlin, 2026, 3, 3, 23, 59)},
		{"midnight is the next day", "daily 22:00-24:00", berlin, at(berlin, 2026, 3, 4, 0, 0), at(berlin, 2026, 3, 4, 22, 0)},
		{"utc", "Mon-Fri 09:00-17:00", time.UTC, utc(2026, 3, 6, 18, 0), utc(2026, 3, 9, 9, 0)},
		{"zone without daylight saving", "Mon-Fri 09:00-17:00", tokyo, utc(2026, 3, 6, 9, 0), utc(2026, 3, 9, 0, 0)},

		// Europe/Berlin springs forward on Sunday 29 March 2026: 02:00 CET
		// (01:00 UTC) becomes 03:00 CEST.
		{"spring: friday to monday changes the offset", "Mon-Fri 09:00-17:00", berlin, utc(2026, 3, 27, 17, 0), utc(2026, 3, 30, 7, 0)},
		{"spring: saturday to sunday morning", "Sun 09:00-17:00", berlin, utc(2026, 3, 28, 11, 0), utc(2026, 3, 29, 7, 0)},
		{"spring: window starting in the skipped hour opens at the jump", "daily 02:30-04:00", berlin, utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 1, 0)},
		{"spring: window inside the skipped hour waits a day", "daily 02:00-02:30", berlin, utc(2026, 3, 28, 23, 0), utc(2026, 3, 30, 0, 0)},
		{"spring: last minute before the jump is inside", "daily 01:00-03:30", berlin, utc(2026, 3, 29, 0, 59), utc(2026, 3, 29, 0, 59)},
		{"spring: first minute after the jump is inside", "daily 01:00-03:30", berlin, utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 0)},
		{"spring: window starting at 03:00 opens at the jump", "daily 03:00-05:00", berlin, utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 0)},
		{"spring: window ending in the skipped hour closes at the jump", "daily 01:00-02:30", berlin, utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 23, 0)},
		{"spring: afternoon the day after", "Mon-Fri 14:00-15:00", berlin, utc(2026, 3, 29, 12, 0), utc(2026, 3, 30, 12, 0)},

		// Europe/Berlin falls back on Sunday 25 October 2026: 03:00 CEST
		// (01:00 UTC) becomes 02:00 CET, so 02:00-03:00 happens twice.
		{"fall: first pass of the repeated hour", "daily 02:15-02:45", berlin, utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 0, 15)},
		{"fall: inside the first pass stays", "daily 02:15-02:45", berlin, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 0, 30)},
		{"fall: after the first pass the second pass is inside", "daily 02:15-02:45", berlin, utc(2026, 10, 25, 0, 50), utc(2026, 10, 25, 1, 15)},
		{"fall: after the second pass waits a day", "daily 02:15-02:45", berlin, utc(2026, 10, 25, 1, 50), utc(2026, 10, 26, 1, 15)},
		{"fall: window ending in the repeated hour opens again", "daily 01:00-02:30", berlin, utc(2026, 10, 25, 0, 40), utc(2026, 10, 25, 1, 0)},
		{"fall: sunday morning after the change", "daily 09:00-17:00", berlin, utc(2026, 10, 24, 16, 0), utc(2026, 10, 25, 8, 0)},
		{"fall: friday to monday changes the offset", "Mon-Fri 09:00-17:00", berlin, utc(2026, 10, 23, 15, 0), utc(2026, 10, 26, 8, 0)},
		{"fall: an hour-long window keeps the wall clock", "Sun 02:00-03:00", berlin, utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 0, 0)},

		// America/New_York springs forward on Sunday 8 March 2026 at 02:00.
		{"new york: window inside the skipped hour", "daily 02:15-02:45", newYork, utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 6, 15)},
		{"new york: monday after the change", "Mon-Fri 09:00-17:00", newYork, utc(2026, 3, 6, 23, 0), utc(2026, 3, 9, 13, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ParseWindow(tt.window)
			if err != nil {
				t.Fatal(err)
			}
			got := w.Next(tt.from, tt.loc)
			if !got.Equal(tt.want) {
				t.Errorf("Next(%s) = %s, want %s", tt.from.In(tt.loc), got.In(tt.loc), tt.want.In(tt.loc))
			}
			if got.Location() != tt.loc {
				t.Errorf("Next returned a time in %s, want %s", got.Location(), tt.loc)
			}
			if !w.Contains(got, tt.loc) {
				t.Errorf("Next returned %s, which is outside the window", got.In(tt.loc))
			}
		})
	}
}

// TestWindowNext_MatchesMinuteByMinuteSearch compares Next with a plain
// search, minute by minute, around both changes of 2026 in Berlin.
func TestWindowNext_MatchesMinuteByMinuteSearch(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	windows := []string{
		"Mon-Fri 09:00-17:00", "daily 02:30-04:00", "daily 02:00-02:30", "daily 01:00-02:30",
		"Sun 02:00-03:00", "Sat-Sun 10:00-14:00", "daily 00:00-00:15; daily 23:45-24:00",
	}
	starts := []time.Time{utc(2026, 3, 27, 0, 0), utc(2026, 10, 23, 0, 0)}
	for _, ws := range windows {
		w, err := ParseWindow(ws)
		if err != nil {
			t.Fatal(err)
		}
		for _, start := range starts {
			for from := start; from.Before(start.Add(4 * 24 * time.Hour)); from = from.Add(23 * time.Minute) {
				want := from
				for !w.Contains(want, berlin) {
					want = want.Add(time.Minute)
				}
				if got := w.Next(from, berlin); !got.Equal(want) {
					t.Fatalf("%s: Next(%s) = %s, want %s", ws, from.In(berlin), got.In(berlin), want.In(berlin))
				}
			}
		}
	}
}

func TestParseWindow_ReadsEveryWayOfWritingDays(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Mon-Fri 09:00-17:00", "Mon-Fri 09:00-17:00"},
		{"mon-fri 9:00-17:00", "Mon-Fri 09:00-17:00"},
		{"Monday-Friday 09:00-17:00", "Mon-Fri 09:00-17:00"},
		{"weekdays 09:00-17:00", "Mon-Fri 09:00-17:00"},
		{"Mon,Wed,Fri 10:00-12:00", "Mon,Wed,Fri 10:00-12:00"},
		{"Mon, Wed, Fri 10:00-12:00", "Mon,Wed,Fri 10:00-12:00"},
		{"daily 08:00-20:00", "daily 08:00-20:00"},
		{"Mon-Sun 08:00-20:00", "daily 08:00-20:00"},
		{"Sat-Sun 10:00-14:00", "Sat,Sun 10:00-14:00"},
		{"weekends 10:00-14:00", "Sat,Sun 10:00-14:00"},
		{"Fri-Mon 10:00-11:00", "Mon,Fri-Sun 10:00-11:00"},
		{"Mon-Fri 09:00–17:00", "Mon-Fri 09:00-17:00"},
		{"Mon-Fri 09:00-12:00; Mon-Fri 14:00-17:00", "Mon-Fri 09:00-12:00; Mon-Fri 14:00-17:00"},
		{"daily 22:00-24:00", "daily 22:00-24:00"},
	}
	for _, tt := range tests {
		w, err := ParseWindow(tt.in)
		if err != nil {
			t.Errorf("ParseWindow(%q): %v", tt.in, err)
			continue
		}
		if got := w.String(); got != tt.want {
			t.Errorf("ParseWindow(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseWindow_RejectsMistakes(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "Mon-Fri", "09:00-17:00", "Mon-Fri 9-17", "Mon-Fri 17:00-09:00", "Mon-Fri 09:00-09:00",
		"Mon-Fry 09:00-17:00", "Mo-Fr 09:00-17:00", "daily 25:00-26:00", "daily 09:60-10:00",
		"daily 24:00-24:00", "daily 09:00-24:30", "daily 9:5-10:00", "Mon-Fri 09:00-17:00;",
	} {
		if w, err := ParseWindow(in); err == nil {
			t.Errorf("ParseWindow(%q) = %q, want an error", in, w)
		}
	}
}

func TestWindow_ZeroAllowsAnyTime(t *testing.T) {
	t.Parallel()
	var w Window
	at := utc(2026, 3, 29, 1, 30)
	if got := w.Next(at, time.UTC); !got.Equal(at) {
		t.Errorf("Next = %s, want %s", got, at)
	}
	if !w.Contains(at, time.UTC) {
		t.Error("the zero window does not contain a time")
	}
}

func BenchmarkWindowNext(b *testing.B) {
	berlin := mustZone(b, "Europe/Berlin")
	w, _ := ParseWindow("Mon-Fri 09:00-17:00")
	from := utc(2026, 3, 27, 17, 0)
	for b.Loop() {
		w.Next(from, berlin)
	}
}
