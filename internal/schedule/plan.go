package schedule

import "time"

// Wait is what one mail of a sequence waits for: its delay after the mail
// before it, then its send window (the zero Window: any time).
type Wait struct {
	Delay  Delay
	Window Window
}

// Slot is when one mail would go out. Due is when its delay runs out; At
// is when it goes out, later than Due when the send window pushed it.
type Slot struct {
	Due, At time.Time
}

// Plan returns when each wait ends for a lead who enters the sequence at
// start and lives in loc. Each delay counts from when the mail before it
// went out (from start for the first), so a window that pushes one mail
// pushes the ones after it too. A mail that is skipped takes its turn all
// the same, so the times hold whichever mails are skipped.
func Plan(start time.Time, loc *time.Location, waits []Wait) []Slot {
	slots := make([]Slot, len(waits))
	prev := start.In(loc)
	for i, w := range waits {
		due := w.Delay.After(prev, loc)
		at := w.Window.Next(due, loc)
		slots[i] = Slot{Due: due, At: at}
		prev = at
	}
	return slots
}
