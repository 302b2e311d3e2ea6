package campaign

import (
	"errors"
	"strings"
	"testing"

	"github.com/nurture/nurture/internal/condition"
)

// conditionStep loads a sequence of three steps and returns the third,
// "offer", with the condition under test.
func conditionStep(t *testing.T, cond string) *Step {
	t.Helper()
	set := loadFiles(t, map[string]string{
		"nurture/sequence.md":      testSequence,
		"nurture/01-welcome.md":    "---\nsubject: Welcome\n---\nHi.",
		"nurture/02-case-study.md": "---\nsubject: Case\ndelay: 1d\n---\nHi.",
		"nurture/03-offer.md":      "---\nsubject: Offer\ndelay: 1d\nif: " + cond + "\n---\nHi.",
	})
	return set.Step("nurture/offer")
}

func TestStepEval_WithoutConditionIsTrue(t *testing.T) {
	t.Parallel()
	st := loadStep(t, "subject: A", "Hi.")
	ok, err := st.Eval(condition.Snapshot{Of: SampleLead()})
	if !ok || err != nil {
		t.Errorf("Eval = %v, %v", ok, err)
	}
}

func TestStepEval_PassesOnFactErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("database gone")
	f := failingFacts{Snapshot: condition.Snapshot{Of: SampleLead()}, fail: boom}
	ok, err := conditionStep(t, `"x" in events`).Eval(f)
	if ok || !errors.Is(err, boom) {
		t.Errorf("Eval = %v, %v; want false and the facts' error", ok, err)
	}
	if !strings.Contains(err.Error(), "nurture/offer") {
		t.Errorf("error %q does not name the step", err)
	}
}

// failingFacts are facts whose events cannot be read.
type failingFacts struct {
	condition.Snapshot
	fail error
}

func (f failingFacts) Events() ([]string, error) { return nil, f.fail }
