package campaign

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
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

func TestStepEval_AnswersEveryKindOfCondition(t *testing.T) {
	t.Parallel()
	signup := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := &lead.Lead{
		Score: 42, Stage: lead.StageMQL, Source: "ebook-datensicherheit", CreatedAt: signup,
		Attributes: lead.Attributes{"company_size": float64(250), "industry": "Logistics", "newsletter": true, "employees": " 250 "},
	}
	facts := Snapshot{
		Of:           l,
		At:           signup.Add(10*24*time.Hour + time.Hour),
		EventTypes:   []string{"webinar_attended", "pricing_viewed"},
		OpenedSteps:  []string{"nurture/welcome", "nurture/case-study"},
		ClickedSteps: []string{"nurture/welcome"},
		URLs:         []string{"https://example.com/pricing/team", "https://example.com/guide"},
	}
	tests := []struct {
		cond string
		want bool
	}{
		{"opened(previous)", true},
		{"not clicked(previous)", true},
		{`clicked("welcome")`, true},
		{`opened("case-study") and not clicked("case-study")`, true},
		{`clicked_url("https://example.com/pricing*")`, true},
		{`clicked_url("https://example.com/demo*")`, false},
		{"score >= 40", true},
		{"score > 42", false},
		{`stage == "mql"`, true},
		{`stage in ["sal", "sql"]`, false},
		{`source == "ebook-datensicherheit"`, true},
		{"attr.company_size >= 200", true},
		{"attr.company_size >= 500", false},
		{`attr.industry == "Logistics"`, true},
		{`lower(attr.industry) == "logistics"`, true},
		{"attr.newsletter", true},
		{`attr.missing == nil`, true},
		{`(attr.missing ?? 0) > 5`, false},
		{`"webinar_attended" in events`, true},
		{`"demo_booked" in events`, false},
		{`not ("demo_booked" in events)`, true},
		{"days_since_signup == 10", true},
		{"days_since_signup >= 14", false},
		{"score > 30 or clicked(previous)", true},
		{"number(attr.company_size) >= 200", true},
		{"number(attr.employees) >= 200", true},
		{"number(attr.missing) == 0", true},
		{"number(attr.industry) == 0", true},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			t.Parallel()
			st := conditionStep(t, tt.cond)
			got, err := st.Eval(facts)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Eval = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStepEval_WithoutConditionIsTrue(t *testing.T) {
	t.Parallel()
	st := loadStep(t, "subject: A", "Hi.")
	ok, err := st.Eval(Snapshot{Of: SampleLead()})
	if !ok || err != nil {
		t.Errorf("Eval = %v, %v", ok, err)
	}
}

// countingFacts records which facts a condition asked for.
type countingFacts struct {
	Snapshot
	asked []string
	fail  error
}

func (c *countingFacts) Events() ([]string, error) {
	c.asked = append(c.asked, "events")
	return c.EventTypes, c.fail
}

func (c *countingFacts) Opened(step string) (bool, error) {
	c.asked = append(c.asked, "opened "+step)
	return c.Snapshot.Opened(step)
}

func (c *countingFacts) Clicked(step string) (bool, error) {
	c.asked = append(c.asked, "clicked "+step)
	return c.Snapshot.Clicked(step)
}

func (c *countingFacts) ClickedURLs() ([]string, error) {
	c.asked = append(c.asked, "urls")
	return c.URLs, c.fail
}

func TestStepEval_AsksOnlyForWhatTheConditionUses(t *testing.T) {
	t.Parallel()
	for cond, want := range map[string]string{
		"score > 10":                             "",
		"opened(previous)":                       "opened nurture/case-study",
		`clicked("welcome")`:                     "clicked nurture/welcome",
		`score > 100 and opened(previous)`:       "",
		`clicked_url("a*") or clicked_url("b*")`: "urls",
		`"x" in events`:                          "events",
	} {
		f := &countingFacts{Snapshot: Snapshot{Of: SampleLead()}}
		if _, err := conditionStep(t, cond).Eval(f); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(f.asked, ", "); got != want {
			t.Errorf("%s asked for %q, want %q", cond, got, want)
		}
	}
}

func TestStepEval_PassesOnFactErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("database gone")
	f := &countingFacts{Snapshot: Snapshot{Of: SampleLead()}, fail: boom}
	ok, err := conditionStep(t, `"x" in events`).Eval(f)
	if ok || !errors.Is(err, boom) {
		t.Errorf("Eval = %v, %v; want false and the facts' error", ok, err)
	}
	if !strings.Contains(err.Error(), "nurture/offer") {
		t.Errorf("error %q does not name the step", err)
	}
}
