package scoring

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/problem"
)

func mustParse(t *testing.T, src string) *Rules {
	t.Helper()
	r, ps := Parse("scoring.yaml", []byte(src))
	if r == nil || problem.HasErrors(ps) {
		t.Fatalf("problems: %v", ps)
	}
	return r
}

// shipped parses the shipped campaigns/scoring.yaml, which must have no
// problems, not even a warning.
func shipped(t *testing.T) *Rules {
	t.Helper()
	data, err := os.ReadFile("../../campaigns/scoring.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, ps := Parse("campaigns/scoring.yaml", data)
	if r == nil || len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	return r
}

func TestParse_ShippedExampleHasNoProblems(t *testing.T) {
	r := shipped(t)
	if r.MQL == nil || r.Handoff == nil || len(r.Handoff.Routes) != 2 || r.HalfLife != 30*24*time.Hour || r.Handoff.Digest == nil {
		t.Fatalf("rules incomplete: %+v", r)
	}
}

func TestParse_TheIssueContract(t *testing.T) {
	src := `mql: score >= 60 and fit >= 10        # a comment
points:
  confirmed: 5
  open: 1
  click: 5
  urls:
    "https://acme.example/pricing*": 20
  events:
    demo_requested: 40
    page_view: 1
    unsubscribed_from_sequence: -10
caps:
  open: 5
  page_view: 10
fit:
  - if: number(attr.company_size) >= 50
    points: 20
  - if: lower(attr.job_title) matches "head|cto|chief|leiter"
    points: 15
decay:
  half_life: 30d
bands:
  warm: 20
  hot: 50
handoff:
  reject_reasons: [no_budget, not_decision_maker, competitor, bad_fit]
  routes:
    - if: attr.country in ["DE", "AT", "CH"]
      to: [anna@sales.example, ben@sales.example]
    - to: [sales@acme.example]
  webhook:
    url: https://crm.example/hooks/nurture
    secret: env:NURTURE_WEBHOOK_SECRET
  digest: "0 8 * * 1-5"
`
	r := mustParse(t, src)
	if len(r.Warnings) != 1 || r.Warnings[0].String() != "scoring.yaml:7: warning: points.urls has no cap: a page view earns these points every time; add one, such as caps: urls: 40" {
		t.Errorf("warnings = %v", r.Warnings)
	}
	if r.MQL.Src != "score >= 60 and fit >= 10" || r.MQL.Line != 1 {
		t.Errorf("mql = %+v", r.MQL)
	}
	p := r.Points
	if p.Confirmed != 5 || p.Open != 1 || p.Click != 5 || len(p.URLs) != 1 || p.URLs[0] != (URLPoints{"https://acme.example/pricing*", 20, 7}) {
		t.Errorf("points = %+v", p)
	}
	if p.Events["unsubscribed_from_sequence"] != (EventPoints{-10, 11}) || r.Caps["page_view"] != (Cap{10, 14}) {
		t.Errorf("events %+v caps %+v", p.Events, r.Caps)
	}
	if len(r.Fit) != 2 || r.Fit[1].Points != 15 || r.Fit[1].Line != 18 || r.Bands != (Bands{20, 50}) {
		t.Errorf("fit %+v bands %+v", r.Fit, r.Bands)
	}
	h := r.Handoff
	if len(h.RejectReasons) != 4 || h.Routes[0].To[1] != "ben@sales.example" || h.Routes[1].If != nil ||
		h.Webhook.URL != "https://crm.example/hooks/nurture" || h.Webhook.SecretEnv != "NURTURE_WEBHOOK_SECRET" || h.DigestSpec != "0 8 * * 1-5" {
		t.Errorf("handoff = %+v, webhook %+v", h, h.Webhook)
	}
}

func TestParse_OptionalPartsAndDefaults(t *testing.T) {
	r := mustParse(t, "points:\n  click: 3\n")
	if r.MQL != nil || r.Handoff != nil || r.HalfLife != 0 || r.Bands != DefaultBands || len(r.Fit) != 0 {
		t.Errorf("rules = %+v", r)
	}
}

func TestParse_QuotedWordStartsACondition(t *testing.T) {
	r := mustParse(t, "mql: \"demo_booked\" in events and fit >= 10\nfit:\n  - if: 'x' in events\n    points: 1\n  - if: \"webinar\" in events or source == 'ebook'\n    points: 2\n")
	if r.MQL.Src != `"demo_booked" in events and fit >= 10` || r.Fit[0].If.Src != `'x' in events` || r.Fit[1].If.Src != `"webinar" in events or source == 'ebook'` {
		t.Errorf("mql %q, fit %q %q", r.MQL.Src, r.Fit[0].If.Src, r.Fit[1].If.Src)
	}
}

func TestParse_Problems(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // each "line: part of the message"
	}{
		{"not YAML", "points:\n  click: 5\nmql: a: b\n", []string{"3: not valid YAML: mapping values are not allowed", "check the indentation"}},
		{"tab", "points:\n\tclick: 5\n", []string{"2: not valid YAML", "tabs"}},
		{"empty", "", []string{"1: the file is empty"}},
		{"a list", "- a\n- b\n", []string{"1: the file must be keys"}},
		{"unknown top key", "point:\n  click: 5\n", []string{`1: unknown key "point": did you mean "points"?`}},
		{"twice", "points:\n  click: 5\npoints:\n  open: 1\n", []string{"3: points is set twice (first on line 1)"}},
		{"points not a map", "points: 5\n", []string{"1: points must be keys and values"}},
		{"points typo", "points:\n  clicks: 5\n", []string{`2: points: unknown key "clicks": did you mean "click"?`}},
		{"points not a number", "points:\n  click: five\n", []string{`2: points.click must be a whole number, such as 5 or -10, not "five"`}},
		{"points a fraction", "points:\n  open: 0.5\n", []string{"2: points.open must be a whole number"}},
		{"url not web", "points:\n  urls:\n    \"/pricing*\": 20\n", []string{`3: points.urls: "/pricing*" must be a web address`}},
		{"event type", "points:\n  events:\n    Demo Requested: 40\n", []string{`3: points.events: "Demo Requested" is not an event type`}},
		{"cap without points", "points:\n  events:\n    page_view: 1\ncaps:\n  page_veiw: 10\n  webinar: 3\n", []string{`5: caps: "page_veiw" has no points to cap; did you mean "page_view"?`, `6: caps: "webinar" has no points to cap`}},
		{"cap zero", "points:\n  open: 1\ncaps:\n  open: 0\n", []string{"4: caps.open must be more than 0"}},
		{"mql syntax", "mql: score >=\n", []string{"1: mql: the condition ends too early"}},
		{"mql unknown name", "mql: scroe >= 60\n", []string{"1: mql: unknown name scroe", "did you mean score?"}},
		{"mql not bool", "mql: score + 1\n", []string{"1: mql: expected bool"}},
		{"mql multi-line", "points:\n  open: 1\nmql: |\n  score >= 60 and\n  fit >=\n", []string{"5: mql: the condition ends too early"}},
		{"fit not a list", "fit:\n  if: x\n", []string{"1: fit must be a list"}},
		{"fit no points", "fit:\n  - if: number(attr.company_size) >= 50\n", []string{"2: fit rule 1 needs both if: (the condition) and points:"}},
		{"fit uses score", "fit:\n  - if: score > 10\n    points: 5\n", []string{"2: fit rule 1: if: a fit rule cannot use score"}},
		{"fit unknown key", "fit:\n  - if: source == \"x\"\n    points: 5\n    note: hi\n", []string{`4: fit rule 1: unknown key "note"`}},
		{"fit bad expr", "fit:\n  - points: 5\n    if: attr.country in [\"DE\"\n", []string{"3: fit rule 1: if:"}},
		{"decay", "decay:\n  half_life: 30 days\n", []string{`2: decay.half_life: "30 days" is not a duration`}},
		{"decay short", "decay:\n  half_life: 5m\n", []string{"2: decay.half_life must be at least 1h"}},
		{"decay key", "decay:\n  halflife: 30d\n", []string{`2: decay: unknown key "halflife": did you mean "half_life"?`}},
		{"bands order", "bands:\n  warm: 50\n  hot: 20\n", []string{"3: bands.hot (20) must be more than bands.warm (50)"}},
		{"bands zero", "bands:\n  warm: 0\n", []string{"2: bands.warm must be more than 0"}},
		{"handoff without mql", "handoff:\n  reject_reasons: [a]\n  routes:\n    - to: s@example.com\n", []string{"1: handoff needs an mql rule"}},
		{"handoff empty", "mql: score > 1\nhandoff:\n  digest: \"0 8 * * *\"\n", []string{"2: handoff needs routes", "2: handoff needs reject_reasons"}},
		{"reasons", "mql: score > 1\nhandoff:\n  reject_reasons: [no_budget, No Budget, no_budget]\n  routes:\n    - to: s@example.com\n", []string{`3: handoff.reject_reasons: "No Budget" is not a reason name`, "3: handoff.reject_reasons: no_budget is listed twice"}},
		{"default route first", "mql: score > 1\nhandoff:\n  reject_reasons: [a]\n  routes:\n    - to: s@example.com\n    - if: source == \"x\"\n      to: t@example.com\n",
			[]string{"5: handoff route 1 has no if:, so it takes every lead", "6: handoff route 2 is the last and has an if:"}},
		{"route to", "mql: score > 1\nhandoff:\n  reject_reasons: [a]\n  routes:\n    - if: fit > 1\n      to: [a@example.com, not-an-address]\n    - to: []\n    - {}\n",
			[]string{`6: handoff route 1: "not-an-address" is not an email address`, "7: handoff route 2: to is an empty list", "8: handoff route 3 needs to:"}},
		{"route if", "mql: score > 1\nhandoff:\n  reject_reasons: [a]\n  routes:\n    - if: temprature == \"hot\"\n      to: a@example.com\n    - to: b@example.com\n", []string{"5: handoff route 1: if: unknown name temprature", "did you mean temperature?"}},
		{"webhook", "mql: score > 1\nhandoff:\n  reject_reasons: [a]\n  routes:\n    - to: b@example.com\n  webhook:\n    url: crm.example/hook\n    secret: whsec_abc\n",
			[]string{"7: handoff.webhook.url must be a web address", "8: handoff.webhook.secret must be env:NAME"}},
		{"webhook missing", "mql: score > 1\nhandoff:\n  reject_reasons: [a]\n  routes:\n    - to: b@example.com\n  webhook:\n    url: https://crm.example/hook\n", []string{"6: handoff.webhook needs secret:"}},
		{"digest", "mql: score > 1\nhandoff:\n  reject_reasons: [a]\n  routes:\n    - to: b@example.com\n  digest: \"0 8 * *\"\n", []string{`6: handoff.digest: "0 8 * *" is not a cron expression`}},
		{"digest range", "mql: score > 1\nhandoff:\n  reject_reasons: [a]\n  routes:\n    - to: b@example.com\n  digest: \"0 25 * * *\"\n", []string{"6: handoff.digest:"}},
		{"handoff key", "mql: score > 1\nhandoff:\n  reject_reasons: [a]\n  routes:\n    - to: b@example.com\n  digets: \"0 8 * * *\"\n", []string{`6: handoff: unknown key "digets": did you mean "digest"?`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ps := Parse("campaigns/scoring.yaml", []byte(tt.src))
			if r != nil {
				t.Errorf("rules returned despite errors")
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			all := strings.Join(got, "\n")
			for _, w := range tt.want {
				line, msg, _ := strings.Cut(w, ": ")
				if _, err := time.ParseDuration(line + "s"); err != nil { // not a line number: a part of any message
					if !strings.Contains(all, w) {
						t.Errorf("no problem contains %q; got:\n%s", w, all)
					}
					continue
				}
				if !strings.Contains(all, "campaigns/scoring.yaml:"+line+": "+msg) {
					t.Errorf("want campaigns/scoring.yaml:%s: %s…; got:\n%s", line, msg, all)
				}
			}
		})
	}
}

func TestParse_WarnsOfComparingAnAttributeWithANumber(t *testing.T) {
	r, ps := Parse("campaigns/scoring.yaml", []byte("fit:\n  - if: source == \"x\"\n    points: 1\n  - if: attr.company_size >= 200 or 5 < attr[\"size\"]\n    points: 5\n  - if: number(attr.company_size) >= 200\n    points: 5\n"))
	if r == nil || len(ps) != 2 || len(r.Warnings) != 2 {
		t.Fatalf("rules %v, problems %v", r, ps)
	}
	for _, p := range ps {
		if p.Severity != problem.Warning || p.Line != 4 || !strings.Contains(p.String(), "campaigns/scoring.yaml:4: warning: fit rule 2: if: compare through number(") {
			t.Errorf("problem %q", p)
		}
	}
}

func TestProblem_String(t *testing.T) {
	p := problem.Problem{Path: "campaigns/scoring.yaml", Line: 0, Msg: "x", Severity: problem.Warning}
	if p.String() != "campaigns/scoring.yaml:1: warning: x" {
		t.Errorf("got %q", p.String())
	}
}

func TestParse_BrokenFileReportsEveryProblemAtItsLine(t *testing.T) {
	data, err := os.ReadFile("testdata/broken.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, ps := Parse("campaigns/scoring.yaml", data)
	want := []string{
		"campaigns/scoring.yaml:1: mql: unknown name scroe; did you mean score?",
		`campaigns/scoring.yaml:4: points.open must be a whole number`,
		`campaigns/scoring.yaml:6: points.urls: "/pricing*" must be a web address`,
		`campaigns/scoring.yaml:10: caps: "opens" has no points to cap; did you mean "open"?`,
		"campaigns/scoring.yaml:12: fit rule 1: if: a fit rule cannot use score",
		"campaigns/scoring.yaml:14: fit rule 2 needs both if: (the condition) and points:",
		`campaigns/scoring.yaml:16: decay.half_life: "30" is not a duration`,
		"campaigns/scoring.yaml:19: bands.hot (20) must be more than bands.warm (50)",
		"campaigns/scoring.yaml:23: handoff route 1 has no if:",
		"campaigns/scoring.yaml:24: handoff route 2 is the last and has an if:",
		`campaigns/scoring.yaml:25: handoff route 2: "anna@" is not an email address`,
		"campaigns/scoring.yaml:28: handoff.webhook.secret must be env:NAME",
		`campaigns/scoring.yaml:29: handoff.digest: "every monday" is not a cron expression`,
	}
	if r != nil || len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), ps)
	}
	for i, w := range want {
		if !strings.HasPrefix(ps[i].String(), w) {
			t.Errorf("problem %d = %q, want it to start with %q", i, ps[i], w)
		}
	}
}
