package campaign

import (
	"errors"
	"time"

	"github.com/nurture/nurture/internal/condition"
)

// Facts are what a step's condition may ask about one lead, as Step.Eval
// takes them: condition.Facts, named here for the sequence engine, which
// gets its steps from this package and implements them.
type Facts = condition.Facts

// compileCondition compiles the if: of st, whose sequence has the steps
// slugs in order, and reports its problems at the if: line of the file.
// It runs the condition once for the sample lead, so that one which can
// only fail shows now rather than at send time.
func compileCondition(st *Step, slugs []string, ps *problems) bool {
	path, line := st.Path, st.Line("if")
	c, err := condition.Compile(st.Condition, condition.Steps{Sequence: st.Sequence, Slugs: slugs, Self: st.Index})
	if ce := (*condition.Error)(nil); errors.As(err, &ce) {
		ps.errorf(path, line+max(ce.Line, 1)-1, "if: %s", ce.Msg)
		return false
	}
	for _, w := range c.Warnings {
		ps.warnf(path, line, "if: %s", w)
	}
	st.cond = c
	if c.Mistyped { // a warning said why it fails already
		return true
	}
	sample := SampleLead()
	if _, err := c.Eval(condition.Snapshot{Of: sample, At: sample.CreatedAt.Add(10 * 24 * time.Hour)}); err != nil {
		_, msg := condition.Explain(err, st.Condition)
		ps.warnf(path, line, "if: fails for the sample lead: %s", msg)
	}
	return true
}
