package lead

import "time"

// Enrolment states.
const (
	EnrolmentActive    = "active"
	EnrolmentCompleted = "completed"
	EnrolmentExited    = "exited"
	EnrolmentStopped   = "stopped"
)

// Enrolment is one lead's walk through one sequence.
type Enrolment struct {
	ID          int64
	LeadID      int64
	Sequence    string
	State       string // EnrolmentActive, …
	StepsDone   []string
	LastOrder   int
	DueAt       time.Time
	EnrolledAt  time.Time
	LastSentAt  *time.Time
	EndedAt     *time.Time
	EndedReason string
}

// Event is something a lead did: an open, a click, or a custom event such
// as demo_booked.
type Event struct {
	LeadID  int64     `db:"lead_id"`
	Type    string    `db:"type"`
	StepKey string    `db:"step_key"` // sequence/slug of the mail an open or click came from
	URL     string    `db:"url"`
	At      time.Time `db:"at"`
}
