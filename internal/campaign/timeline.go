package campaign

import (
	"time"

	"github.com/nurture/nurture/internal/schedule"
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
// (the step's own or the sequence's) applied. Conditions are taken as
// true; a step whose condition is false is skipped at the same moment
// instead, and the next one waits its delay from then, so the times hold
// either way.
func Timeline(q *Sequence, start time.Time, loc *time.Location) []Planned {
	waits := make([]schedule.Wait, len(q.Steps))
	for i, st := range q.Steps {
		waits[i] = schedule.Wait{Delay: st.Delay, Window: q.WindowOf(st)}
	}
	plan := make([]Planned, len(q.Steps))
	for i, s := range schedule.Plan(start, loc, waits) {
		plan[i] = Planned{Step: q.Steps[i], Due: s.Due, At: s.At}
	}
	return plan
}
