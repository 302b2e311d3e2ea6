package schedule

import (
	"testing"
	"time"
)

func TestParseDelay_ReadsUnitsAndCombinations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Delay
		str  string
	}{
		{"0", Delay{}, "0"},
		{"45s", Delay{Time: 45 * time.Second}, "45s"},
		{"30m", Delay{Time: 30 * time.Minute}, "30m"},
		{"2h", Delay{Time: 2 * time.Hour}, "2h"},
		{"3d", Delay{Days: 3}, "3d"},
		{"1w", Delay{Days: 7}, "1w"},
		{"1d12h", Delay{Days: 1, Time: 12 * time.Hour}, "1d12h"},
		{"1d 12h", Delay{Days: 1, Time: 12 * time.Hour}, "1d12h"},
		{"2w3d", Delay{Days: 17}, "2w3d"},
		{"10d", Delay{Days: 10}, "1w3d"},
		{"1h30m", Delay{Time: 90 * time.Minute}, "1h30m"},
		{"36h", Delay{Time: 36 * time.Hour}, "36h"},
		{" 2d ", Delay{Days: 2}, "2d"},
	}
	for _, tt := range tests {
		got, err := ParseDelay(tt.in)
		if err != nil {
			t.Errorf("ParseDelay(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDelay(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.str {
			t.Errorf("ParseDelay(%q).String() = %q, want %q", tt.in, got.String(), tt.str)
		}
	}
}

func TestParseDelay_RejectsMistakes(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "3", "3 days", "3days", "1.5d", "-1d", "d", "12h1d", "1d1d", "2y", "1D", "400d", "9999999s"} {
		if d, err := ParseDelay(in); err == nil {
			t.Errorf("ParseDelay(%q) = %v, want an error", in, d)
		}
	}
}

func TestDelayAfter_CountsDaysOnTheCalendar(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	saturdayMorning := time.Date(2026, 3, 28, 10, 0, 0, 0, berlin)
	tests := []struct {
		delay string
		want  time.Time
	}{
		// Sunday 29 March has 23 hours in Berlin.
		{"1d", time.Date(2026, 3, 29, 10, 0, 0, 0, berlin)},
		{"24h", time.Date(2026, 3, 29, 11, 0, 0, 0, berlin)},
		{"1w", time.Date(2026, 4, 4, 10, 0, 0, 0, berlin)},
		{"1d2h", time.Date(2026, 3, 29, 12, 0, 0, 0, berlin)},
		{"0", saturdayMorning},
	}
	for _, tt := range tests {
		d, err := ParseDelay(tt.delay)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.After(saturdayMorning, berlin); !got.Equal(tt.want) {
			t.Errorf("%s after %s = %s, want %s", tt.delay, saturdayMorning, got, tt.want)
		}
	}
}
