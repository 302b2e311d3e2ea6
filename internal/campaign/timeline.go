package campaign

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

// Planned is when one step would go out.
type Planned struct {
	Step *Step
	// Due is when the delay runs out; At is when the mail goes out, later
	// than Due when the send window pushed it.
	Due, At time.Time
}

// Timeline returns when each step of a sequence would go out for a lead who
// is enrolled at start and lives in loc, with delays and the send windows
// (the step's own or the sequence's) applied. Conditions are taken as true; a step whose condition is false is
// skipped at the same moment instead, and the next one waits its delay from
// then, so the times hold either way.
func Timeline(q *Sequence, start time.Time, loc *time.Location) []Planned {
	plan := make([]Planned, 0, len(q.Steps))
	prev := start.In(loc)
	for _, st := range q.Steps {
		due := st.Delay.After(prev, loc)
		at := q.WindowOf(st).Next(due, loc)
		plan = append(plan, Planned{Step: st, Due: due, At: at})
		prev = at
	}
	return plan
}

// TimelineZone picks the zone a timeline is shown in: the sequence's own
// zone if it has one, else tz (standing in for a lead's zone), else
// fallback, the server's default.
func TimelineZone(q *Sequence, tz string, fallback *time.Location) (*time.Location, error) {
	if tz != "" && loadLocation(tz) == nil {
		return nil, fmt.Errorf("campaign: %q is not a time zone such as Europe/Berlin", tz)
	}
	return q.Location(&lead.Lead{Attributes: lead.Attributes{"timezone": tz}}, fallback), nil
}

// ParseStart reads the start of a timeline: RFC 3339, "2006-01-02 15:04",
// "2006-01-02T15:04" or "2006-01-02" (09:00 that day), in loc unless it has
// an offset. An empty string means now.
func ParseStart(s string, loc *time.Location, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return now.In(loc), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.In(loc), nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t.Add(9 * time.Hour), nil
	}
	return time.Time{}, fmt.Errorf("campaign: start %q: write a time such as 2026-03-02 10:00 or 2026-03-02T10:00:00+01:00", s)
}

const timeFormat = "Mon 2006-01-02 15:04 MST"

// FormatTimeline writes a timeline as a table for people.
func FormatTimeline(w io.Writer, q *Sequence, start time.Time, loc *time.Location, plan []Planned) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", q.ID, q.Name)
	fmt.Fprintf(&b, "  trigger  %s\n", q.Trigger)
	fmt.Fprintf(&b, "  window   %s, time zone %s", q.Window, loc)
	if q.Timezone == "lead" {
		b.WriteString(" (the lead's)")
	}
	fmt.Fprintf(&b, "\n  exit     %s\n", q.Exit)
	fmt.Fprintf(&b, "  start    %s\n\n", start.In(loc).Format(timeFormat))
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tDELAY\tSENDS\tAFTER START\tNOTE")
	for _, p := range plan {
		var notes []string
		if p.Step.Window != nil {
			notes = append(notes, "own window: "+p.Step.Window.String())
		}
		if !p.At.Equal(p.Due) {
			notes = append(notes, "window moved it from "+p.Due.In(loc).Format("Mon 15:04"))
		}
		if p.Step.Condition != "" {
			notes = append(notes, "only if "+p.Step.Condition+" (else skipped)")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n",
			strings.TrimSuffix(filepath.Base(p.Step.Path), ".md"), p.Step.Delay, p.At.In(loc).Format(timeFormat),
			since(p.At.Sub(start)), strings.Join(notes, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(table.String()) {
		b.WriteString(strings.TrimRight(line, " \n"))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// since writes an elapsed time in days and hours, such as "3d 4h".
func since(d time.Duration) string {
	d = d.Round(time.Minute)
	days, rest := d/(24*time.Hour), d%(24*time.Hour)
	h, m := rest/time.Hour, rest%time.Hour/time.Minute
	switch {
	case days > 0 && m == 0:
		return fmt.Sprintf("%dd %dh", days, h)
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm", days, h, m)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}
