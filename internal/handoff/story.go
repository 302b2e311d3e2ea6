package handoff

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// line is one dated line of a lead's story.
type line struct{ At, What string }

// field is one line of a lead's profile.
type field struct{ Label, Value string }

const dateLayout = "2 Jan 2006, 15:04 UTC"

func date(t time.Time) string { return t.UTC().Format(dateLayout) }

// profile is who the lead is: name, address, attributes under the labels
// of the form the lead signed up through, and that form's title.
func profile(l *lead.Lead, f *campaign.Form) []field {
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
			out = append(out, field{attrLabel(f, k), v})
		}
	}
	if l.Source != "" {
		out = append(out, field{"Signed up through", sourceName(f, l.Source)})
	}
	return out
}

// formOf is the form whose signups record source, or nil.
func formOf(forms campaign.Forms, source string) *campaign.Form {
	if source == "" {
		return nil
	}
	for _, f := range forms {
		if f.Source == source {
			return f
		}
	}
	return forms.Get(source)
}

// sourceName is the title of the lead's form, or its source as recorded.
func sourceName(f *campaign.Form, source string) string {
	if f != nil && f.Title != "" {
		return f.Title
	}
	return source
}

// attrLabel is what the form calls an attribute, or its name made
// readable: company_size reads "Company size".
func attrLabel(f *campaign.Form, name string) string {
	if f != nil {
		for _, ff := range f.Fields {
			if ff.Name == "attributes."+name && ff.Label != "" {
				return ff.Label
			}
		}
	}
	words := strings.Fields(strings.NewReplacer("_", " ", "-", " ", ".", " ").Replace(name))
	if len(words) == 0 {
		return name
	}
	s := strings.Join(words, " ")
	return strings.ToUpper(s[:1]) + s[1:]
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

// activity is what the lead read and did, in time order. A mail whose
// bytes were not kept takes the subject its step has now, when that has no
// placeholders to fill in.
func activity(as []store.Activity, set *campaign.Set) []line {
	out := make([]line, 0, len(as))
	for _, a := range as {
		if a.Subject == "" && a.StepKey != "" && set != nil {
			if st := set.Step(a.StepKey); st != nil && !strings.Contains(st.Subject, "{{") {
				a.Subject = st.Subject
			}
		}
		out = append(out, line{date(a.At), describe(a)})
	}
	return out
}

// mailName is how a person knows the mail an activity came from: its
// subject as sent, else its step.
func mailName(a store.Activity) string {
	if a.Subject != "" {
		return "“" + a.Subject + "”"
	}
	return a.StepKey
}

func describe(a store.Activity) string {
	in := ""
	if m := mailName(a); m != "" {
		in = " in the mail " + m
	}
	switch {
	case a.Source == "pixel" || a.Type == "open":
		return "opened the mail " + cmpOr(mailName(a), "(unknown)")
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
// The sources read as the titles of their forms.
func consent(l *lead.Lead, forms campaign.Forms, es []store.ConsentEntry) (summary string, out []line) {
	name := func(source string) string { return sourceName(formOf(forms, source), source) }
	for _, e := range es {
		var what string
		switch e.Kind {
		case "signup":
			what = "signed up" + through(e, name)
			if e.ConsentVersion != "" {
				what += ", consent wording " + e.ConsentVersion
			}
		case "confirmation":
			what = "confirmed the address (double opt-in)" + through(e, name)
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
			summary += " through " + name(l.Source)
		}
		summary += ": the lead agreed to hear from you."
	case l.Status == lead.StatusUnsubscribed:
		summary = "Unsubscribed: do not mail this lead."
	default:
		summary = "Not confirmed (" + string(l.Status) + "): check before you write."
	}
	return summary, out
}

func through(e store.ConsentEntry, name func(string) string) string {
	s := ""
	if e.Source != "" {
		s = " through " + name(e.Source)
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
