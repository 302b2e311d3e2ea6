package scoring

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/condition"
)

// Reason is one line of the score ledger: which rule gave how many points
// for what.
type Reason struct {
	Rule   string // the rule of the file, such as points.click or fit rule 2
	Line   int    // its line in scoring.yaml; 0 for a default
	Signal string // what happened, such as "click" or "event demo_requested"
	Ref    string // the mail, link or event, as the caller named it
	Points int
	Note   string // for a person: the cap, the condition, the half-life
}

// String reads like "+20 click https://example.com/pricing (points.urls, line 9)".
func (r Reason) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+d", r.Points)
	for _, s := range []string{r.Signal, r.Ref} {
		if s != "" {
			b.WriteString(" " + s)
		}
	}
	fmt.Fprintf(&b, " (%s", r.Rule)
	if r.Line > 0 {
		fmt.Fprintf(&b, ", line %d", r.Line)
	}
	if r.Note != "" {
		b.WriteString(": " + r.Note)
	}
	b.WriteString(")")
	return b.String()
}

// Award is the points of a result and why.
type Award struct {
	Points  int
	Reasons []Reason
}

func (a *Award) add(r Reason) {
	a.Points += r.Points
	a.Reasons = append(a.Reasons, r)
}

// SignalKind is what a lead did.
type SignalKind string

const (
	SignalConfirmed SignalKind = "confirmed" // confirmed a signup
	SignalOpen      SignalKind = "open"      // opened a mail (human or image proxy)
	SignalClick     SignalKind = "click"     // clicked a link of a mail
	SignalEvent     SignalKind = "event"     // an API or website event
)

// Signal is one thing a lead did that may earn points. Only signals with a
// verdict that counts reach scoring.
type Signal struct {
	Kind SignalKind
	Type string    // the event type, for SignalEvent
	URL  string    // the clicked link's address or the viewed page's
	Ref  string    // how the ledger names it: the mail, link or event
	At   time.Time // when it happened; Day(At) is the day caps count in
	// Repeat: the mail was opened before (open), or the link of the mail
	// was clicked before (click); such a signal earns nothing again.
	Repeat bool
	// Unopened: a click of a mail with no open recorded, which counts as
	// the mail's open too.
	Unopened bool
}

// Today is what a lead has already earned on the signal's day, by cap key
// (confirmed, open, click, urls or an event type).
type Today map[string]int

// Add counts an award's points against their caps.
func (t Today) Add(a Award) {
	for _, r := range a.Reasons {
		if k := capKey(r); k != "" && r.Points > 0 {
			t[k] += r.Points
		}
	}
}

func capKey(r Reason) string {
	switch {
	case r.Rule == "points.urls":
		return "urls"
	case strings.HasPrefix(r.Rule, "points.events."):
		return strings.TrimPrefix(r.Rule, "points.events.")
	case strings.HasPrefix(r.Rule, "points."):
		return strings.TrimPrefix(r.Rule, "points.")
	}
	return ""
}

// Day is the day a time falls on for caps: its UTC date.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// SignalPoints returns the engagement points of a signal, given what the lead has
// already earned that day (today may be nil). A click earns points.click,
// and points.open as well when its mail has no open; a click, or an event
// with a URL (a page view, a download), earns the points of every
// points.urls pattern its address matches.
// Positive points are cut to what the day's cap leaves; a cut is noted in
// the reason, and a signal with nothing left still gets a reason of 0.
func (r *Rules) SignalPoints(s Signal, today Today) Award {
	var a Award
	left := map[string]int{}
	give := func(key, rule string, line, points int, signal string) {
		if points == 0 {
			return
		}
		rs := Reason{Rule: rule, Line: line, Signal: signal, Ref: s.Ref, Points: points}
		if c, ok := r.Caps[key]; ok && points > 0 {
			if _, seen := left[key]; !seen {
				left[key] = max(0, c.Max-today[key])
			}
			if points > left[key] {
				rs.Points = left[key]
				rs.Note = fmt.Sprintf("%d of %d: capped at %d a day", rs.Points, points, c.Max)
			}
			left[key] -= rs.Points
		}
		a.add(rs)
	}
	p := r.Points
	switch s.Kind {
	case SignalConfirmed:
		give("confirmed", "points.confirmed", p.lines["confirmed"], p.Confirmed, "confirmed")
	case SignalOpen:
		if !s.Repeat {
			give("open", "points.open", p.lines["open"], p.Open, "open")
		}
	case SignalClick:
		if s.Repeat {
			break
		}
		if s.Unopened {
			give("open", "points.open", p.lines["open"], p.Open, "open (by its click)")
		}
		give("click", "points.click", p.lines["click"], p.Click, "click")
		r.urlPoints(s, give)
	case SignalEvent:
		// Event types are matched ignoring case, as the sequences' triggers
		// and exits match them; the file writes them in lower case.
		t := strings.ToLower(s.Type)
		if e, ok := p.Events[t]; ok {
			give(t, "points.events."+t, e.Line, e.Points, "event "+s.Type)
		}
		r.urlPoints(s, give)
	}
	return a
}

func (r *Rules) urlPoints(s Signal, give func(key, rule string, line, points int, signal string)) {
	if s.URL == "" {
		return
	}
	for _, u := range r.Points.URLs {
		if condition.MatchURL(u.Pattern, s.URL) {
			give("urls", "points.urls", u.Line, u.Points, string(s.Kind)+" "+s.URL)
		}
	}
}

// FitPoints returns the fit points of a lead: the sum of the fit rules that
// hold, each a reason. A rule that cannot be evaluated for this lead (it
// compares text with a number, say) gives nothing; its error is returned
// beside the award of the others.
func (r *Rules) FitPoints(f Facts) (Award, error) {
	var a Award
	var errs []error
	for i, rule := range r.Fit {
		ok, err := rule.If.eval(f, Score{}, r.Bands)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			a.add(Reason{Rule: fmt.Sprintf("fit rule %d", i+1), Line: rule.Line, Signal: "fit", Points: rule.Points, Note: rule.If.Src})
		}
	}
	return a, errors.Join(errs...)
}

// Entry is one dated change of engagement points in the ledger.
type Entry struct {
	At     time.Time
	Points int
}

// Engagement is a lead's engagement at a time.
type Engagement struct {
	Points  int     // what counts now, rounded
	Exact   float64 // the same before rounding
	Raw     int     // the sum of the entries without decay
	Reasons []Reason
}

// Engagement returns the engagement of a ledger at time at: every entry
// halves with each half-life since it was earned (an entry later than at
// counts in full). The reason, when decay took something, says how much.
func (r *Rules) Engagement(ledger []Entry, at time.Time) Engagement {
	var e Engagement
	for _, x := range ledger {
		e.Raw += x.Points
		v := float64(x.Points)
		if age := at.Sub(x.At); r.HalfLife > 0 && age > 0 {
			v *= math.Exp2(-float64(age) / float64(r.HalfLife))
		}
		e.Exact += v
	}
	e.Points = int(math.Round(e.Exact))
	if d := e.Points - e.Raw; d != 0 {
		e.Reasons = []Reason{{Rule: "decay.half_life", Signal: "decay", Points: d,
			Note: fmt.Sprintf("%d points earned, %d left after halving every %s", e.Raw, e.Points, formatDuration(r.HalfLife))}}
	}
	return e
}

// Temperature is the band of an engagement score.
func (r *Rules) Temperature(engagement int) Temperature { return r.Bands.Of(engagement) }

// IsMQL reports whether the mql rule holds for a lead with a score, with the
// reason to record when it does. Without an mql rule it never holds.
func (r *Rules) IsMQL(f Facts, s Score) (bool, Reason, error) {
	if r.MQL == nil {
		return false, Reason{}, nil
	}
	ok, err := r.MQL.eval(f, s, r.Bands)
	if err != nil || !ok {
		return false, Reason{}, err
	}
	return true, Reason{Rule: "mql", Line: r.MQL.Line, Signal: "mql",
		Note: fmt.Sprintf("%s holds with score %d (fit %d, engagement %d)", r.MQL.Src, s.Total(), s.Fit, s.Engagement)}, nil
}

// ErrNoHandoff means the file has no handoff section.
var ErrNoHandoff = errors.New("scoring: no handoff in the scoring file")

// Team is the route a lead is handed to.
type Team struct {
	Index  int // of the route in handoff.routes, from 0: the key of its turn counter
	Owners []string
	Reason Reason
}

// Owner is the owner whose turn it is, for a turn counter that the caller
// keeps per team and counts up by one per handoff.
func (t Team) Owner(turn int64) string {
	n := int64(len(t.Owners))
	return t.Owners[((turn%n)+n)%n]
}

// Team returns the first route whose condition holds for the lead; the last
// route has none, so there is always one. A route whose condition cannot be
// evaluated for this lead is passed over, and its error returned beside the
// team.
func (r *Rules) Team(f Facts, s Score) (Team, error) {
	if r.Handoff == nil {
		return Team{}, ErrNoHandoff
	}
	var errs []error
	for i, rt := range r.Handoff.Routes {
		note := "the default team"
		if rt.If != nil {
			ok, err := rt.If.eval(f, s, r.Bands)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !ok {
				continue
			}
			note = rt.If.Src
		}
		return Team{Index: i, Owners: rt.To,
			Reason: Reason{Rule: fmt.Sprintf("handoff route %d", i+1), Line: rt.Line, Signal: "route", Note: note}}, errors.Join(errs...)
	}
	return Team{}, errors.New("scoring: no route took the lead") // Parse makes the last route take all
}

func formatDuration(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d%(7*day) == 0:
		return fmt.Sprintf("%dw", d/(7*day))
	case d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}
