package campaign

import (
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/condition"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/templates"
)

// The example campaigns are the first thing a new user sees: they must
// load without a warning and read well for any lead. Two e-book mails
// have click conditions, which read well for a lead who did not click or
// is not tracked.

var exampleWarnings []string

func loadExamples(t *testing.T) *Set {
	t.Helper()
	set, ps := Load("../../campaigns", templates.FS)
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	if strings.Join(got, "\n") != strings.Join(exampleWarnings, "\n") {
		t.Errorf("example campaigns:\n%s\nwant only:\n%s", strings.Join(got, "\n"), strings.Join(exampleWarnings, "\n"))
	}
	if set == nil {
		t.FailNow()
	}
	return set
}

func TestExamples_LoadCleanAndRenderForAnyLead(t *testing.T) {
	t.Parallel()
	set := loadExamples(t)
	if got := strings.Join(set.ids(), " "); got != "ebook-datensicherheit welcome" {
		t.Errorf("example sequences = %s", got)
	}
	bare := &lead.Lead{Email: "someone@example.com"}
	for _, q := range set.Sequences {
		for _, st := range q.Steps {
			for _, l := range []*lead.Lead{SampleLead(), bare} {
				r, err := Render(st, Data{Lead: l, BaseURL: "https://nurture.example", UnsubscribeURL: "https://nurture.example/u/x", Footer: "Footer"})
				if err != nil {
					t.Fatalf("%s: %v", st.Key(), err)
				}
				for _, part := range []string{r.Subject, r.Text, r.HTML} {
					for _, bad := range []string{"<no value>", "  ,", " ,", "Hi ,", "for {{", "{{", "#ZgotmplZ"} {
						if strings.Contains(part, bad) {
							t.Errorf("%s for %q: %q in\n%s", st.Key(), l.FirstName, bad, part)
						}
					}
				}
			}
			for _, u := range st.Links {
				if !strings.HasPrefix(u, "https://example.com/") {
					t.Errorf("%s links to %s; examples link to https://example.com/", st.Key(), u)
				}
			}
		}
	}
}

func TestExamples_EbookCopyAtOnceThenThreeWeeksOnWeekdays(t *testing.T) {
	t.Parallel()
	set := loadExamples(t)
	q := set.Sequence("ebook-datensicherheit")
	if !q.Trigger.OnConfirmed("ebook-datensicherheit") || q.Trigger.OnConfirmed("newsletter") {
		t.Errorf("trigger = %s", q.Trigger)
	}
	if !q.Exit.OnEvent("demo_booked") || !q.Exit.OnStage(lead.StageSAL) {
		t.Errorf("exit = %s", q.Exit)
	}
	if q.Window.String() != "Mon-Fri 09:00-17:00" || q.Timezone != "lead" {
		t.Errorf("window %s in %s", q.Window, q.Timezone)
	}
	berlin := mustZone(t, "Europe/Berlin")
	start := time.Date(2026, 3, 6, 21, 30, 0, 0, berlin) // a Friday evening download
	plan := Timeline(q, start, berlin)
	if len(plan) < 5 {
		t.Fatalf("%d mails, want at least 5", len(plan))
	}
	if span := plan[len(plan)-1].At.Sub(start); span < 21*24*time.Hour {
		t.Errorf("the nurture spans %s, want at least three weeks", span)
	}
	// The download itself does not wait for Monday; the nurture does.
	if first := plan[0]; first.Step.Slug != "your-copy" || !first.At.Equal(start) {
		t.Errorf("%s goes out at %s, want at once, %s", first.Step.Key(), first.At, start)
	}
	conditional := 0
	for _, p := range plan[1:] {
		if wd := p.At.Weekday(); wd == time.Saturday || wd == time.Sunday || p.At.Hour() < 9 || p.At.Hour() >= 17 {
			t.Errorf("%s goes out at %s, outside office hours", p.Step.Key(), p.At)
		}
		if p.Step.Condition != "" {
			conditional++
		}
	}
	if conditional < 2 {
		t.Errorf("%d conditional steps, want the examples to show conditions", conditional)
	}
}

func TestExamples_CaseStudyOrSmallTeamByCompanySize(t *testing.T) {
	t.Parallel()
	q := loadExamples(t).Sequence("ebook-datensicherheit")
	for size, want := range map[any]string{float64(900): "case-study", "250": "case-study", float64(40): "small-team", nil: "small-team"} {
		l := SampleLead()
		l.Attributes["company_size"] = size
		var sent []string
		for _, slug := range []string{"case-study", "small-team"} {
			ok, err := q.Step(slug).Eval(condition.Snapshot{Of: l, At: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				sent = append(sent, slug)
			}
		}
		if strings.Join(sent, " ") != want {
			t.Errorf("company_size %v: sent %v, want %s", size, sent, want)
		}
	}
}
