package scoring

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

const rulesSrc = `mql: score >= 60 and fit >= 10
points:
  confirmed: 5
  open: 1
  click: 5
  urls:
    "https://acme.example/pricing*": 20
    "https://acme.example/*": 2
  events:
    demo_requested: 40
    page_view: 1
    unsubscribed_from_sequence: -10
caps:
  open: 5
  page_view: 3
  urls: 30
fit:
  - if: number(attr.company_size) >= 50
    points: 20
  - if: lower(attr.job_title) matches "head|cto|chief|leiter"
    points: 15
  - if: attr.company_size > 10
    points: 1
decay:
  half_life: 30d
bands:
  warm: 20
  hot: 50
handoff:
  reject_reasons: [no_budget, bad_fit]
  routes:
    - if: attr.country in ["DE", "AT", "CH"] and temperature != "cold"
      to: [anna@sales.example, ben@sales.example, cem@sales.example]
    - if: attr.size_band > 3
      to: big@sales.example
    - to: sales@acme.example
  webhook:
    url: https://crm.example/hooks/nurture
    secret: env:NURTURE_WEBHOOK_SECRET
  digest: "0 8 * * 1-5"
`

var t0 = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

func TestSignalPoints(t *testing.T) {
	r := mustParse(t, rulesSrc)
	tests := []struct {
		name   string
		s      Signal
		today  Today
		want   int
		reason []string // each reason's String() contains these, in order
	}{
		{"confirmed", Signal{Kind: SignalConfirmed, Ref: "signup 7"}, nil, 5, []string{"+5 confirmed signup 7 (points.confirmed, line 3)"}},
		{"first open", Signal{Kind: SignalOpen, Ref: "mail 42"}, nil, 1, []string{"+1 open mail 42 (points.open, line 4)"}},
		{"second open of a mail", Signal{Kind: SignalOpen, Ref: "mail 42", Repeat: true}, nil, 0, nil},
		{"open under the cap", Signal{Kind: SignalOpen}, Today{"open": 4}, 1, []string{"+1 open"}},
		{"open at the cap", Signal{Kind: SignalOpen}, Today{"open": 5}, 0, []string{"+0 open", "0 of 1: capped at 5 a day"}},
		{"click of an opened mail", Signal{Kind: SignalClick, URL: "https://other.example/x"}, nil, 5, []string{"+5 click (points.click, line 5)"}},
		{"click without an open counts the open", Signal{Kind: SignalClick, URL: "https://other.example/x", Unopened: true}, nil, 6, []string{"+1 open (by its click)", "+5 click"}},
		{"click without an open, opens capped", Signal{Kind: SignalClick, URL: "https://other.example/x", Unopened: true}, Today{"open": 5}, 5, []string{"+0 open (by its click)", "+5 click"}},
		{"second click of a link", Signal{Kind: SignalClick, URL: "https://acme.example/pricing", Repeat: true}, nil, 0, nil},
		{"pricing click matches both globs", Signal{Kind: SignalClick, URL: "https://acme.example/pricing?plan=team", Ref: "link 3 of mail 42"}, nil, 27,
			[]string{"+5 click link 3 of mail 42", "+20 click https://acme.example/pricing?plan=team link 3 of mail 42 (points.urls, line 7)", "+2 click https://acme.example/pricing?plan=team link 3 of mail 42 (points.urls, line 8)"}},
		{"url cap cuts the second glob", Signal{Kind: SignalClick, URL: "https://acme.example/pricing"}, Today{"urls": 12}, 5 + 18, []string{"+5 click", "+18 click", "18 of 20: capped at 30 a day", "+0 click", "0 of 2"}},
		{"glob must match the whole address", Signal{Kind: SignalClick, URL: "https://acme.example.evil/pricing"}, nil, 5, []string{"+5 click"}},
		{"event", Signal{Kind: SignalEvent, Type: "demo_requested", Ref: "event crm-4711"}, nil, 40, []string{"+40 event demo_requested event crm-4711 (points.events.demo_requested, line 10)"}},
		{"page view with a url", Signal{Kind: SignalEvent, Type: "page_view", URL: "https://acme.example/pricing"}, nil, 23, []string{"+1 event page_view", "+20 event https://acme.example/pricing", "+2 event"}},
		{"page views capped", Signal{Kind: SignalEvent, Type: "page_view", URL: "https://blog.example/x"}, Today{"page_view": 3}, 0, []string{"+0 event page_view", "capped at 3 a day"}},
		{"negative points are never capped", Signal{Kind: SignalEvent, Type: "unsubscribed_from_sequence"}, nil, -10, []string{"-10 event unsubscribed_from_sequence"}},
		{"unknown event", Signal{Kind: SignalEvent, Type: "webinar_attended"}, nil, 0, nil},
		{"event types ignore case, as triggers do", Signal{Kind: SignalEvent, Type: "Demo_Requested"}, nil, 40, []string{"+40 event Demo_Requested (points.events.demo_requested, line 10)"}},
		{"their caps too", Signal{Kind: SignalEvent, Type: "PAGE_VIEW"}, Today{"page_view": 3}, 0, []string{"+0 event PAGE_VIEW", "capped at 3 a day"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := r.SignalPoints(tt.s, tt.today)
			var got []string
			for _, rs := range a.Reasons {
				got = append(got, rs.String())
			}
			all := strings.Join(got, "\n")
			if a.Points != tt.want {
				t.Errorf("points = %d, want %d\n%s", a.Points, tt.want, all)
			}
			rest := all
			for _, w := range tt.reason {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("reasons lack %q (in order):\n%s", w, all)
					break
				}
				rest = rest[i+len(w):]
			}
			if tt.reason == nil && len(a.Reasons) != 0 {
				t.Errorf("want no reasons, got:\n%s", all)
			}
		})
	}
}

func TestToday_AddCountsAgainstCaps(t *testing.T) {
	r := mustParse(t, rulesSrc)
	today := Today{}
	total := 0
	for range 8 {
		a := r.SignalPoints(Signal{Kind: SignalOpen, At: t0}, today)
		today.Add(a)
		total += a.Points
	}
	if total != 5 || today["open"] != 5 {
		t.Errorf("8 opens gave %d points (today %v), want the cap of 5", total, today)
	}
	today.Add(r.SignalPoints(Signal{Kind: SignalEvent, Type: "unsubscribed_from_sequence"}, today))
	if len(today) != 1 {
		t.Errorf("negative points counted against a cap: %v", today)
	}
	if d := Day(time.Date(2026, 12, 1, 23, 59, 0, 0, time.FixedZone("CET", 3600))); !d.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Day = %v", d)
	}
}

func facts(attrs lead.Attributes) Facts {
	return Facts{Lead: &lead.Lead{Stage: lead.StageLead, Source: "ebook", Attributes: attrs, CreatedAt: t0.AddDate(0, 0, -3)}, Now: t0}
}

func TestFitPoints(t *testing.T) {
	r := mustParse(t, rulesSrc)
	tests := []struct {
		name  string
		attrs lead.Attributes
		want  int
		rules []string
		err   bool
	}{
		{"no data: rule 3 fails on the missing size", lead.Attributes{}, 0, nil, true},
		{"no attributes at all", nil, 0, nil, true},
		{"size as text", lead.Attributes{"company_size": "250"}, 20, []string{"fit rule 1"}, true},
		{"size and title", lead.Attributes{"company_size": float64(80), "job_title": "Head of IT"}, 36, []string{"fit rule 1", "fit rule 2", "fit rule 3"}, false},
		{"title only, in German", lead.Attributes{"job_title": "IT-Leiter"}, 15, []string{"fit rule 2"}, true},
		{"small company", lead.Attributes{"company_size": float64(5), "job_title": "Intern"}, 0, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := r.FitPoints(facts(tt.attrs))
			if (err != nil) != tt.err {
				t.Errorf("err = %v, want error %v", err, tt.err)
			}
			var rules []string
			for _, rs := range a.Reasons {
				rules = append(rules, rs.Rule)
				if rs.Line == 0 || rs.Note == "" {
					t.Errorf("reason without line or condition: %+v", rs)
				}
			}
			if a.Points != tt.want || !slices.Equal(rules, tt.rules) {
				t.Errorf("fit = %d by %v, want %d by %v", a.Points, rules, tt.want, tt.rules)
			}
		})
	}
	if _, err := r.FitPoints(Facts{}); err == nil {
		t.Error("no error without a lead")
	}
}

func TestEngagement_DecaysWithTheHalfLife(t *testing.T) {
	r := mustParse(t, rulesSrc)
	day := 24 * time.Hour
	ledger := []Entry{{At: t0, Points: 40}, {At: t0.Add(30 * day), Points: 20}, {At: t0.Add(45 * day), Points: -10}}
	tests := []struct {
		at    time.Time
		want  int
		exact float64
	}{
		{t0.Add(-day), 50, 50}, // all in the future: full value
		{t0, 50, 50},           // -10 and 20 are later, count in full
		{t0.Add(30 * day), 30, 20 + 20 - 10},
		{t0.Add(60 * day), 0, 10 + 10 - 10*math.Exp2(-0.5)},
		{t0.Add(365 * day), 0, 40*math.Exp2(-365.0/30) + 20*math.Exp2(-335.0/30) - 10*math.Exp2(-320.0/30)},
	}
	for _, tt := range tests {
		e := r.Engagement(ledger, tt.at)
		if e.Raw != 50 || math.Abs(e.Exact-tt.exact) > 1e-9 || e.Points != int(math.Round(tt.exact)) {
			t.Errorf("at %s: %+v, want %.4f", tt.at.Sub(t0), e, tt.exact)
		}
		if want := e.Points - e.Raw; want != 0 && (len(e.Reasons) != 1 || e.Reasons[0].Points != want || !strings.Contains(e.Reasons[0].Note, "halving every 30d")) {
			t.Errorf("at %s: reasons %+v", tt.at.Sub(t0), e.Reasons)
		}
	}
	if e := r.Engagement(nil, t0); e.Points != 0 || len(e.Reasons) != 0 {
		t.Errorf("empty ledger: %+v", e)
	}
	none := mustParse(t, "points:\n  open: 1\n")
	if e := none.Engagement(ledger, t0.Add(900*day)); e.Points != 50 || len(e.Reasons) != 0 {
		t.Errorf("without decay: %+v", e)
	}
}

func TestTemperature(t *testing.T) {
	r := mustParse(t, rulesSrc)
	for e, want := range map[int]Temperature{-5: Cold, 0: Cold, 19: Cold, 20: Warm, 49: Warm, 50: Hot, 500: Hot} {
		if got := r.Temperature(e); got != want {
			t.Errorf("Temperature(%d) = %s, want %s", e, got, want)
		}
	}
}

func TestIsMQL(t *testing.T) {
	r := mustParse(t, rulesSrc)
	f := facts(lead.Attributes{})
	tests := []struct {
		s    Score
		want bool
	}{
		{Score{Fit: 10, Engagement: 50}, true},
		{Score{Fit: 9, Engagement: 80}, false},
		{Score{Fit: 35, Engagement: 24}, false},
		{Score{Fit: 35, Engagement: 25}, true},
	}
	for _, tt := range tests {
		ok, why, err := r.IsMQL(f, tt.s)
		if err != nil || ok != tt.want {
			t.Errorf("IsMQL(%+v) = %v, %v; want %v", tt.s, ok, err, tt.want)
		}
		if ok && (why.Rule != "mql" || why.Line != 1 || !strings.Contains(why.Note, "score >= 60 and fit >= 10 holds with score")) {
			t.Errorf("reason %+v", why)
		}
	}
	if ok, _, _ := mustParse(t, "points:\n  open: 1\n").IsMQL(f, Score{Fit: 100, Engagement: 100}); ok {
		t.Error("an MQL without an mql rule")
	}
	events := mustParse(t, "mql: '\"demo_requested\" in events and days_since_signup >= 3 and stage == \"lead\"'\n")
	f.Events = []string{"page_view", "demo_requested"}
	if ok, _, err := events.IsMQL(f, Score{}); !ok || err != nil {
		t.Errorf("events rule: %v %v", ok, err)
	}
	f.Now = t0.AddDate(0, 0, -1)
	if ok, _, _ := events.IsMQL(f, Score{}); ok {
		t.Error("days_since_signup ignored")
	}
}

func TestTeam_RoutesAndTakesTurns(t *testing.T) {
	r := mustParse(t, rulesSrc)
	warm := Score{Fit: 10, Engagement: 30}
	tests := []struct {
		name  string
		attrs lead.Attributes
		s     Score
		index int
		err   bool
	}{
		{"DACH and warm", lead.Attributes{"country": "AT"}, warm, 0, false},
		{"DACH but cold", lead.Attributes{"country": "DE", "size_band": float64(1)}, Score{Fit: 50}, 2, false},
		{"elsewhere", lead.Attributes{"country": "FR", "size_band": float64(1)}, warm, 2, false},
		{"a route that cannot be evaluated is passed over", lead.Attributes{"size_band": "big"}, warm, 2, true},
		{"second route", lead.Attributes{"size_band": float64(5)}, warm, 1, false},
	}
	for _, tt := range tests {
		team, err := r.Team(facts(tt.attrs), tt.s)
		if team.Index != tt.index || (err != nil) != tt.err || team.Reason.Line == 0 {
			t.Errorf("%s: team %+v, err %v; want route %d, error %v", tt.name, team, err, tt.index, tt.err)
		}
	}
	team, _ := r.Team(facts(lead.Attributes{"country": "CH"}), warm)
	var turns []string
	for turn := range int64(7) {
		turns = append(turns, team.Owner(turn))
	}
	want := []string{"anna@sales.example", "ben@sales.example", "cem@sales.example", "anna@sales.example", "ben@sales.example", "cem@sales.example", "anna@sales.example"}
	if !slices.Equal(turns, want) || team.Owner(-1) != "cem@sales.example" || team.Owner(1<<62) == "" {
		t.Errorf("turns = %v", turns)
	}
	if _, err := mustParse(t, "points:\n  open: 1\n").Team(facts(nil), warm); !errors.Is(err, ErrNoHandoff) {
		t.Errorf("err = %v, want ErrNoHandoff", err)
	}
}

func TestHandoff_WebhookSecretAndDigest(t *testing.T) {
	r := mustParse(t, rulesSrc)
	w := r.Handoff.Webhook
	env := map[string]string{"NURTURE_WEBHOOK_SECRET": "whsec_abc"}
	if s, err := w.Secret(func(k string) string { return env[k] }); s != "whsec_abc" || err != nil {
		t.Errorf("Secret = %q, %v", s, err)
	}
	if _, err := w.Secret(func(string) string { return "" }); !errors.Is(err, ErrNoSecret) || !strings.Contains(err.Error(), "NURTURE_WEBHOOK_SECRET") {
		t.Errorf("err = %v", err)
	}
	// Tuesday 1 December 2026, 09:30: the next digest is Wednesday 08:00, and
	// Friday's is followed by Monday's.
	if next := r.Handoff.Digest.Next(t0); !next.Equal(time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("next digest = %v", next)
	}
	if next := r.Handoff.Digest.Next(time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)); !next.Equal(time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("digest after Friday = %v", next)
	}
}
