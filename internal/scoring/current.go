package scoring

import (
	"math"
	"time"
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
