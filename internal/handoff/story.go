package handoff

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// line is one dated line of a lead's story.
type line struct{ At, What string }

// field is one line of a lead's profile.
type field struct{ Label, Value string }

const dateLayout = "2 Jan 2006, 15:04 UTC"

func date(t time.Time) string { return t.UTC().Format(dateLayout) }

// profile is who the lead is: name, address, attributes, source.
func profile(l *lead.Lead) []field {
	out := []field{{"Email", l.Email}}
	if n := strings.TrimSpace(l.FirstName + " " + l.LastName); n != "" {
		out = append([]field{{"Name", n}}, out...)
	}
	keys := make([]string, 0, len(l.Attributes))
	for k := range l.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if v := l.Attr(k); v != "" {
			out = append(out, field{k, v})
		}
	}
	if l.Source != "" {
		out = append(out, field{"Signed up through", l.Source})
	}
	return out
}

// reasons is the score ledger in short: one line per rule and signal,
// fit and engagement apart.
func reasons(rs []store.ScoreReason) (fit, engagement []string) {
	for _, r := range rs {
		s := fmt.Sprintf("%+d %s", r.Points, cmpOr(r.Signal, r.Rule))
		if r.Times > 1 {
			s += fmt.Sprintf(" (%d×)", r.Times)
		}
		if r.Signal != "" && r.Rule != "" {
			s += " — " + r.Rule
		}
		if r.Note != "" {
			s += ": " + r.Note
		}
		if r.Kind == "fit" {
			fit = append(fit, s)
		} else {
			engagement = append(engagement, s)
		}
	}
	return fit, engagement
}

// activity is what the lead read and did, in time order.
func activity(as []store.Activity) []line {
	out := make([]line, 0, len(as))
	for _, a := range as {
		out = append(out, line{date(a.At), describe(a)})
	}
	return out
}

func describe(a store.Activity) string {
	in := ""
	if a.StepKey != "" {
		in = " in the mail " + a.StepKey
	}
	switch {
	case a.Source == "pixel" || a.Type == "open":
		return "opened the mail " + cmpOr(a.StepKey, "(unknown)")
	case a.Source == "click" || a.Type == "click":
		if a.LinkText != "" {
			return fmt.Sprintf("clicked “%s” (%s)%s", a.LinkText, a.URL, in)
		}
		return "clicked " + a.URL + in
	case a.Type == "download":
		return "downloaded " + cmpOr(a.URL, "a file")
	case a.Type == "page_view":
		return "viewed the page " + a.URL
	case a.Type == "confirmed" && a.Source == "system":
		return "confirmed the address (double opt-in)"
	}
	s := "event " + a.Type
	if a.URL != "" {
		s += " (" + a.URL + ")"
	}
	if a.Source == "api" || a.Source == "site" {
		s += ", reported by " + map[string]string{"api": "the API", "site": "the website"}[a.Source]
	}
	return s
}

// consent is the lead's consent ledger in words, and a one-line summary
// of whether sales may write or call.
func consent(l *lead.Lead, es []store.ConsentEntry) (summary string, out []line) {
	for _, e := range es {
		var what string
		switch e.Kind {
		case "signup":
			what = "signed up" + through(e)
			if e.ConsentVersion != "" {
				what += ", consent wording " + e.ConsentVersion
			}
		case "confirmation":
			what = "confirmed the address (double opt-in)" + through(e)
		case "unsubscribe":
			what = "unsubscribed"
		case "tracking_granted":
			what = "agreed to open and click tracking"
		case "tracking_withdrawn":
			what = "withdrew consent to open and click tracking"
		default:
			what = e.Kind
		}
		out = append(out, line{date(e.At), what})
	}
	switch {
	case l.Status == lead.StatusConfirmed && l.ConfirmedAt != nil:
		summary = "Confirmed on " + date(*l.ConfirmedAt)
		if l.Source != "" {
			summary += " through " + l.Source
		}
		summary += ": the lead agreed to hear from you."
	case l.Status == lead.StatusUnsubscribed:
		summary = "Unsubscribed: do not mail this lead."
	default:
		summary = "Not confirmed (" + string(l.Status) + "): check before you write."
	}
	return summary, out
}

func through(e store.ConsentEntry) string {
	s := ""
	if e.Source != "" {
		s = " through " + e.Source
	}
	if e.SourceURL != "" {
		s += " (" + e.SourceURL + ")"
	}
	return s
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
