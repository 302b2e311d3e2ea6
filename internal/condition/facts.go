package condition

import (
	"slices"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

// Facts are what a condition may ask about one lead in one enrolment. The
// sequence engine implements them from the database. A method is called only
// when the condition being evaluated needs it, and at most once per Eval, so
// an implementation may query lazily.
type Facts interface {
	// Lead is the lead as it is now: score, fit, engagement, temperature,
	// stage, source, attributes and CreatedAt (when it signed up).
	Lead() *lead.Lead
	// Now is the time the condition is evaluated at.
	Now() time.Time
	// Events are the types of the events the lead produced, such as
	// "webinar_attended", in any order, duplicates allowed.
	Events() ([]string, error)
	// Opened reports whether the lead opened the mail of a step in this
	// enrolment. step is a step's key, such as "welcome/hello".
	Opened(step string) (bool, error)
	// Clicked reports whether the lead clicked a link in the mail of a step
	// in this enrolment.
	Clicked(step string) (bool, error)
	// ClickedURLs are the addresses of every link the lead clicked in any
	// mail, as written in the campaign file (before click tracking rewrote
	// them), and of every page of the lead's own site it viewed (page_view).
	ClickedURLs() ([]string, error)
}

// Snapshot is Facts held in memory: for tests, previews and engines that
// load everything up front.
type Snapshot struct {
	Of           *lead.Lead
	At           time.Time
	EventTypes   []string
	OpenedSteps  []string // step keys
	ClickedSteps []string // step keys
	URLs         []string // clicked addresses
}

func (s Snapshot) Lead() *lead.Lead                 { return s.Of }
func (s Snapshot) Now() time.Time                   { return s.At }
func (s Snapshot) Events() ([]string, error)        { return s.EventTypes, nil }
func (s Snapshot) Opened(step string) (bool, error) { return slices.Contains(s.OpenedSteps, step), nil }
func (s Snapshot) Clicked(step string) (bool, error) {
	return slices.Contains(s.ClickedSteps, step), nil
}
func (s Snapshot) ClickedURLs() ([]string, error) { return s.URLs, nil }
