package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Delay is how long a step waits after the previous one. Weeks and days are
// calendar days in the lead's time zone, so "1d" after 10:00 is 10:00 the
// next day even across a change to or from daylight-saving time; hours,
// minutes and seconds are elapsed time.
type Delay struct {
	Days int
	Time time.Duration
}

// maxDelayDays keeps a typo such as 3000d from parking a lead for years.
const maxDelayDays = 366

var delayUnits = []struct {
	unit byte
	days int
	time time.Duration
}{
	{'w', 7, 0},
	{'d', 1, 0},
	{'h', 0, time.Hour},
	{'m', 0, time.Minute},
	{'s', 0, time.Second},
}

// ParseDelay reads a delay such as 0, 45s, 30m, 2h, 3d, 1w or 1d12h. The
// units come largest first, each at most once; spaces between them are
// allowed.
func ParseDelay(s string) (Delay, error) {
	in := strings.TrimSpace(s)
	bad := func() (Delay, error) {
		return Delay{}, fmt.Errorf("delay %q: write a whole number and a unit (s, m, h, d or w), such as 45s, 30m, 2h, 3d, 1w or 1d12h", s)
	}
	if in == "0" {
		return Delay{}, nil
	}
	if in == "" {
		return bad()
	}
	var d Delay
	next := 0 // index into delayUnits: units must come in this order
	for in != "" {
		i := 0
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == 0 || i > 6 || i == len(in) {
			return bad()
		}
		n, _ := strconv.Atoi(in[:i])
		u := next
		for u < len(delayUnits) && delayUnits[u].unit != in[i] {
			u++
		}
		if u == len(delayUnits) {
			return bad()
		}
		next = u + 1
		d.Days += n * delayUnits[u].days
		d.Time += time.Duration(n) * delayUnits[u].time
		in = strings.TrimLeft(in[i+1:], " ")
	}
	if d.Days+int(d.Time/(24*time.Hour)) > maxDelayDays {
		return Delay{}, fmt.Errorf("delay %q is longer than a year", s)
	}
	return d, nil
}

// After returns when a wait of d that starts at t ends, counting days on
// the calendar of loc.
func (d Delay) After(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	if d.Days != 0 {
		t = t.AddDate(0, 0, d.Days)
	}
	return t.Add(d.Time)
}

// IsZero reports whether the delay is no wait at all.
func (d Delay) IsZero() bool { return d.Days == 0 && d.Time == 0 }

// String writes the delay the way ParseDelay reads it, such as "1w2d" or
// "1d12h".
func (d Delay) String() string {
	if d.IsZero() {
		return "0"
	}
	var b strings.Builder
	if w := d.Days / 7; w > 0 {
		fmt.Fprintf(&b, "%dw", w)
	}
	if days := d.Days % 7; days > 0 {
		fmt.Fprintf(&b, "%dd", days)
	}
	rest := d.Time
	for _, u := range delayUnits[2:] {
		if n := rest / u.time; n > 0 {
			fmt.Fprintf(&b, "%d%c", n, u.unit)
			rest -= n * u.time
		}
	}
	return b.String()
}
