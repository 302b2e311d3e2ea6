package dispatch

import (
	"slices"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// facts are what conditions and exits know of one lead in one enrolment,
// from the lead facts loaded for the whole claimed batch: one row per
// counted signal, however many events made it. Opens and clicks count only
// when they last happened since the enrolment's start, so a lead enrolled
// again is asked about this walk through the sequence.
type facts struct {
	lead  *lead.Lead
	now   time.Time
	since time.Time
	rows  []store.Fact
}

func (f *facts) Lead() *lead.Lead { return f.lead }
func (f *facts) Now() time.Time   { return f.now }

// Events are the types of the lead's events in lower case, as triggers,
// exits and scoring match them ignoring case: "demo_requested" in events
// holds for an event sent as Demo_Requested.
func (f *facts) Events() ([]string, error) {
	var out []string
	for _, r := range f.rows {
		if r.Kind == store.FactEvent {
			if t := strings.ToLower(r.Key); !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// recent reports whether r happened, the last time, in this enrolment.
func (f *facts) recent(r store.Fact) bool { return !r.LastAt.Before(f.since) }

// Opened counts a click as an open too: a click proves the mail was opened
// even when images (the pixel) were blocked.
func (f *facts) Opened(step string) (bool, error) {
	for _, r := range f.rows {
		if r.Key == step && (r.Kind == store.FactOpen || r.Kind == store.FactClick) && f.recent(r) {
			return true, nil
		}
	}
	return false, nil
}

func (f *facts) Clicked(step string) (bool, error) {
	for _, r := range f.rows {
		if r.Key == step && r.Kind == store.FactClick && f.recent(r) {
			return true, nil
		}
	}
	return false, nil
}

// ClickedURLs are the addresses of the lead's clicks and of the pages it
// viewed: url facts name their page, click facts their link.
func (f *facts) ClickedURLs() ([]string, error) {
	var out []string
	for _, r := range f.rows {
		if u := clickedURL(r); u != "" {
			out = append(out, u)
		}
	}
	return out, nil
}

// clickedURL is the address a fact says the lead clicked or viewed, or "".
func clickedURL(r store.Fact) string {
	switch r.Kind {
	case store.FactURL:
		return r.Key
	case store.FactClick:
		return r.URL
	}
	return ""
}
