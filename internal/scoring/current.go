package scoring

import (
	"math"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

// Decayed is a stored engagement score, worked out at score time, as it
// stands at now: every point halves with each half-life, so the whole sum
// does, and a stored score needs no ledger to be read current. The result
// is within one point of Engagement over the ledger.
func (r *Rules) Decayed(engagement int, at, now time.Time) int {
	if r.HalfLife <= 0 || !now.After(at) {
		return engagement
	}
	return int(math.Round(float64(engagement) * math.Exp2(-float64(now.Sub(at))/float64(r.HalfLife))))
}

// Current brings a lead's stored score to now: its engagement decayed
// since scoring wrote it, and the score and temperature with it; fit does
// not decay. A lead never scored stays as it is. Conditions read a lead
// so, since the stored figures may be up to a day old (decay stores them
// again only then).
func (r *Rules) Current(l *lead.Lead, now time.Time) {
	if l.ScoreAt == nil {
		return
	}
	l.Engagement = r.Decayed(l.Engagement, *l.ScoreAt, now)
	l.Score = l.Fit + l.Engagement
	l.Temperature = string(r.Temperature(l.Engagement))
}
