package condition

import (
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

// compiled compiles cond as the condition of the third of three steps,
// "welcome", "case-study" and "offer", of sequence "nurture".
func compiled(t *testing.T, cond string) *Condition {
	t.Helper()
	c, err := Compile(cond, Steps{Sequence: "nurture", Slugs: []string{"welcome", "case-study", "offer"}, Self: 2})
	if err != nil {
		t.Fatalf("if: %s: %v", cond, err)
	}
	return c
}

func TestEval_AnswersEveryKindOfCondition(t *testing.T) {
	t.Parallel()
	signup := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := &lead.Lead{
		Score: 42, Fit: 15, Engagement: 27, Temperature: "warm", Stage: lead.StageMQL, Source: "ebook-datensicherheit", CreatedAt: signup,
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
		{"fit >= 10 and engagement > 20", true},
		{"fit + engagement == score", true},
		{"engagement >= 50", false},
		{`temperature == "warm"`, true},
		{`temperature in ["hot"]`, false},
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
			got, err := compiled(t, tt.cond).Eval(facts)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Eval = %v, want %v", got, tt.want)
			}
		})
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

// A lead that scoring never looked at is cold, with no points.
func TestEval_UnscoredLeadIsCold(t *testing.T) {
	t.Parallel()
	for cond, want := range map[string]bool{`temperature == "cold"`: true, "fit == 0 and engagement == 0": true, `temperature != "cold"`: false} {
		if got, err := compiled(t, cond).Eval(Snapshot{Of: &lead.Lead{}}); err != nil || got != want {
			t.Errorf("if: %s = %v, %v; want %v", cond, got, err, want)
		}
	}
}

func TestEval_AsksOnlyForWhatTheConditionUses(t *testing.T) {
	t.Parallel()
	for cond, want := range map[string]string{
		"score > 10":                             "",
		"opened(previous)":                       "opened nurture/case-study",
		`clicked("welcome")`:                     "clicked nurture/welcome",
		`score > 100 and opened(previous)`:       "",
		`clicked_url("a*") or clicked_url("b*")`: "urls",
		`"x" in events`:                          "events",
	} {
		f := &countingFacts{Snapshot: Snapshot{Of: &lead.Lead{Score: 35}}}
		if _, err := compiled(t, cond).Eval(f); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(f.asked, ", "); got != want {
			t.Errorf("%s asked for %q, want %q", cond, got, want)
		}
	}
}

func TestMatchURL_StarMatchesAnyText(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pattern, url string
		want         bool
	}{
		{"https://example.com/pricing*", "https://example.com/pricing", true},
		{"https://example.com/pricing*", "https://example.com/pricing/team", true},
		{"https://example.com/pricing", "https://example.com/pricing/team", false},
		{"*/pricing", "https://example.com/pricing", true},
		{"https://*.example.com/*", "https://shop.example.com/cart", true},
		{"https://*.example.com/*", "https://example.com/cart", false},
		{"*", "anything", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
	} {
		if got := MatchURL(tt.pattern, tt.url); got != tt.want {
			t.Errorf("MatchURL(%q, %q) = %v, want %v", tt.pattern, tt.url, got, tt.want)
		}
	}
}
