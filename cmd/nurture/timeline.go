package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
)

// zone is the time zone a timeline is shown in, and whose zone it is.
type zone struct {
	Loc   *time.Location
	Whose string // such as "the lead's", for people
}

// timelineZone picks the zone a timeline is shown in: the sequence's own
// zone if it has one (tz does not apply then, and Whose says so), else tz
// standing in for a lead's zone, else fallback, the server's default for
// leads without one.
func timelineZone(q *campaign.Sequence, tz string, fallback *time.Location) (zone, error) {
	if tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			return zone{}, fmt.Errorf("--tz %s: that is not a time zone; write one such as Europe/Berlin", tz)
		}
	}
	loc := q.Location(&lead.Lead{Attributes: lead.Attributes{"timezone": tz}}, fallback)
	own := q.Timezone != "lead"
	switch {
	case own && tz != "":
		return zone{loc, "the sequence's own; --tz " + tz + " does not apply"}, nil
	case own:
		return zone{loc, "the sequence's own"}, nil
	case tz != "":
		return zone{loc, "the lead's"}, nil
	}
	return zone{loc, "the server's default, for leads without a time zone; --tz shows another"}, nil
}

// parseStart reads the start of a timeline: RFC 3339, "2006-01-02 15:04",
// "2006-01-02T15:04" or "2006-01-02" (09:00 that day), in loc unless it has
// an offset. An empty string means now.
func parseStart(s string, loc *time.Location, now time.Time) (time.Time, error) {
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
	return time.Time{}, fmt.Errorf("--start %q: write a time such as 2026-03-02 10:00 or 2026-03-02T10:00:00+01:00", s)
}

const timeFormat = "Mon 2006-01-02 15:04 MST"

// formatTimeline writes a timeline, shown in zone z, as a table for
// people.
func formatTimeline(w io.Writer, q *campaign.Sequence, start time.Time, z zone, plan []campaign.Planned) error {
	loc := z.Loc
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", q.ID, q.Name)
	fmt.Fprintf(&b, "  trigger  %s\n", q.Trigger)
	fmt.Fprintf(&b, "  window   %s, time zone %s", q.Window, loc)
	if z.Whose != "" {
		fmt.Fprintf(&b, " (%s)", z.Whose)
	}
	fmt.Fprintf(&b, "\n  exit     %s\n", q.Exit)
	fmt.Fprintf(&b, "  start    %s\n\n", start.In(loc).Format(timeFormat))
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tDELAY\tSENDS\tAFTER START\tNOTE")
	for _, p := range plan {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n",
			strings.TrimSuffix(filepath.Base(p.Step.Path), ".md"), p.Step.Delay, p.At.In(loc).Format(timeFormat),
			since(p.At.Sub(start)), planNote(p, loc))
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

// planNote says what is special about one planned mail: its own window,
// a window that moved it, a condition.
func planNote(p campaign.Planned, loc *time.Location) string {
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
	return strings.Join(notes, "; ")
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
