package dispatch

import (
	"time"

	"github.com/nurture/nurture/internal/lead"
)

// facts are what conditions and exits know of one lead in one enrolment,
// from the events loaded for the whole claimed batch. Opens and clicks
// count only from the enrolment's start, so a lead enrolled again is asked
// about this walk through the sequence.
type facts struct {
	lead   *lead.Lead
	now    time.Time
	since  time.Time
	events []lead.Event
}

func (f *facts) Lead() *lead.Lead { return f.lead }
func (f *facts) Now() time.Time   { return f.now }

func (f *facts) Events() ([]string, error) {
	out := make([]string, 0, len(f.events))
	for _, e := range f.events {
		out = append(out, e.Type)
	}
	return out, nil
}

func (f *facts) engaged(kind, step string) bool {
	for _, e := range f.events {
		if e.StepKey == step && !e.At.Before(f.since) && (e.Type == kind || (kind == "open" && e.Type == "click")) {
			return true
		}
	}
	return false
}

// Opened counts a click as an open too: a click proves the mail was opened
// even when images (the pixel) were blocked.
func (f *facts) Opened(step string) (bool, error)  { return f.engaged("open", step), nil }
func (f *facts) Clicked(step string) (bool, error) { return f.engaged("click", step), nil }

func (f *facts) ClickedURLs() ([]string, error) {
	var out []string
	for _, e := range f.events {
		if e.Type == "click" && e.URL != "" {
			out = append(out, e.URL)
		}
	}
	return out, nil
}
