package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Window is when mails of a sequence may go out, in wall-clock time of the
// lead's time zone, such as "Mon-Fri 09:00-17:00". The zero Window allows
// any time.
type Window struct {
	spans []span
}

// span is one "days HH:MM-HH:MM" part of a window.
type span struct {
	days       [7]bool // indexed by time.Weekday
	start, end time.Duration
}

var dayNames = map[string]time.Weekday{
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tues": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
	"sun": time.Sunday, "sunday": time.Sunday,
}

// ParseWindow reads a send window: days, a space and a time range, such as
// "Mon-Fri 09:00-17:00", "Mon,Wed,Fri 10:00-12:00", "Sat-Sun 10:00-14:00",
// "daily 08:00-20:00", "weekdays 09:00-17:00" or "weekends 10:00-14:00".
// Several parts are joined with ";". A range ends before its end time, may
// end at 24:00, and cannot cross midnight.
func ParseWindow(s string) (Window, error) {
	in := strings.NewReplacer("–", "-", "—", "-").Replace(strings.TrimSpace(s))
	if in == "" {
		return Window{}, fmt.Errorf("send window is empty: write days and hours, such as Mon-Fri 09:00-17:00")
	}
	var w Window
	for part := range strings.SplitSeq(in, ";") {
		sp, err := parseSpan(strings.TrimSpace(part))
		if err != nil {
			return Window{}, fmt.Errorf("send window %q: %w", s, err)
		}
		w.spans = append(w.spans, sp)
	}
	return w, nil
}

func parseSpan(s string) (span, error) {
	var sp span
	cut := strings.LastIndexByte(s, ' ')
	if cut < 0 {
		return sp, fmt.Errorf("write days and hours, such as Mon-Fri 09:00-17:00")
	}
	days, hours := strings.ReplaceAll(strings.ToLower(s[:cut]), " ", ""), s[cut+1:]
	switch days {
	case "daily", "everyday":
		sp.days = [7]bool{true, true, true, true, true, true, true}
	case "weekdays":
		for d := time.Monday; d <= time.Friday; d++ {
			sp.days[d] = true
		}
	case "weekends", "weekend":
		sp.days[time.Saturday], sp.days[time.Sunday] = true, true
	default:
		for item := range strings.SplitSeq(days, ",") {
			from, to, isRange := strings.Cut(item, "-")
			first, ok := dayNames[from]
			if !ok {
				return sp, fmt.Errorf("%q is not a day: use Mon, Tue, Wed, Thu, Fri, Sat, Sun, daily, weekdays or weekends", from)
			}
			last := first
			if isRange {
				if last, ok = dayNames[to]; !ok {
					return sp, fmt.Errorf("%q is not a day: use Mon, Tue, Wed, Thu, Fri, Sat, Sun, daily, weekdays or weekends", to)
				}
			}
			for d := first; ; d = (d + 1) % 7 {
				sp.days[d] = true
				if d == last {
					break
				}
			}
		}
	}
	from, to, ok := strings.Cut(hours, "-")
	if !ok {
		return sp, fmt.Errorf("%q is not a time range such as 09:00-17:00", hours)
	}
	var err error
	if sp.start, err = parseClock(from); err != nil {
		return sp, err
	}
	if sp.end, err = parseClock(to); err != nil {
		return sp, err
	}
	if sp.start == 24*time.Hour {
		return sp, fmt.Errorf("a window cannot start at 24:00")
	}
	if sp.end <= sp.start {
		return sp, fmt.Errorf("%s ends before it starts; a window cannot cross midnight, so split it, such as Mon-Fri 22:00-24:00; Tue-Sat 00:00-06:00", hours)
	}
	return sp, nil
}

// parseClock reads HH:MM from 00:00 to 24:00.
func parseClock(s string) (time.Duration, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, errH := strconv.Atoi(hh)
	m, errM := strconv.Atoi(mm)
	if !ok || errH != nil || errM != nil || len(mm) != 2 || len(hh) < 1 || len(hh) > 2 ||
		h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time of day such as 09:00 or 17:30", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// IsZero reports whether the window allows any time.
func (w Window) IsZero() bool { return len(w.spans) == 0 }

// String writes the window the way ParseWindow reads it, or "any time".
func (w Window) String() string {
	if w.IsZero() {
		return "any time"
	}
	parts := make([]string, len(w.spans))
	for i, sp := range w.spans {
		parts[i] = sp.daysString() + " " + clock(sp.start) + "-" + clock(sp.end)
	}
	return strings.Join(parts, "; ")
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// daysString lists the days from Monday on, folding runs of three or more
// days into ranges.
func (sp span) daysString() string {
	order := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	all := true
	for _, on := range sp.days {
		all = all && on
	}
	if all {
		return "daily"
	}
	var items []string
	for i := 0; i < len(order); {
		if !sp.days[order[i]] {
			i++
			continue
		}
		j := i
		for j+1 < len(order) && sp.days[order[j+1]] {
			j++
		}
		name := func(d time.Weekday) string { return d.String()[:3] }
		switch {
		case j-i >= 2:
			items = append(items, name(order[i])+"-"+name(order[j]))
		default:
			for k := i; k <= j; k++ {
				items = append(items, name(order[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(items, ",")
}

// Contains reports whether t falls inside the window on the wall clock of
// loc.
func (w Window) Contains(t time.Time, loc *time.Location) bool {
	if w.IsZero() {
		return true
	}
	return w.containsWall(wall(t.In(loc)))
}

func (w Window) containsWall(naive time.Time) bool {
	tod := naive.Sub(midnight(naive))
	for _, sp := range w.spans {
		if sp.days[naive.Weekday()] && tod >= sp.start && tod < sp.end {
			return true
		}
	}
	return false
}

// Next returns the earliest instant at or after t whose wall-clock time in
// loc is inside the window, in loc. On the day clocks spring forward, a
// window that starts in the skipped hour opens when the clock jumps; when
// clocks fall back, the repeated hour is inside the window both times.
func (w Window) Next(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	if w.IsZero() {
		return t
	}
	// The wall clock runs evenly within one zone period (between two
	// offset changes), so search the periods in turn, each as plain wall
	// time without a zone.
	limit := t.Add(9 * 24 * time.Hour)
	for cur := t; cur.Before(limit); {
		_, end := cur.ZoneBounds()
		from := wall(cur)
		to := from.Add(9 * 24 * time.Hour)
		if !end.IsZero() {
			to = from.Add(end.Sub(cur))
		}
		if n, ok := w.nextWall(from, to); ok {
			return cur.Add(n.Sub(from))
		}
		if end.IsZero() {
			break
		}
		cur = end.In(loc)
	}
	panic("schedule: a send window without a single open minute")
}

// nextWall returns the earliest wall time in [from, to) inside the window.
func (w Window) nextWall(from, to time.Time) (time.Time, bool) {
	for d := 0; d <= 7; d++ {
		day := midnight(from).AddDate(0, 0, d)
		if !day.Before(to) {
			break
		}
		var best time.Time
		for _, sp := range w.spans {
			if !sp.days[day.Weekday()] {
				continue
			}
			c := day.Add(sp.start)
			if c.Before(from) {
				c = from
			}
			if c.Before(day.Add(sp.end)) && c.Before(to) && (best.IsZero() || c.Before(best)) {
				best = c
			}
		}
		if !best.IsZero() {
			return best, true
		}
	}
	return time.Time{}, false
}

// wall is t's wall-clock reading as a time in UTC, where days have no gaps
// or repeats.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func midnight(naive time.Time) time.Time {
	return time.Date(naive.Year(), naive.Month(), naive.Day(), 0, 0, 0, 0, time.UTC)
}
