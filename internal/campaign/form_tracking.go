package campaign

import (
	"errors"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/problem"
)

// TrackingConsent is a form's question whether the person's opens and
// clicks may be tracked (§ 25 TDDDG): a checkbox with Text beside it. The
// consent ledger records the answer with Text and Version, as it records
// the consent's text and version.
type TrackingConsent struct {
	Text    string
	Version string
}

var trackingKeys = []string{"text", "version"}

const trackingExample = "tracking:\n  text: Yes, Nordwind may see which of its mails I open and which links I click, to send me what interests me.\n  version: tracking-2026-11"

// formTracking reads tracking:, the checkbox's words and version.
func formTracking(f *Form, doc *document, ps *problems) *TrackingConsent {
	fl, ok := doc.get("tracking")
	if !ok {
		return nil
	}
	if fl.node.Kind != yaml.MappingNode {
		ps.errorf(f.Path, fl.line, "tracking is the checkbox that asks for consent to tracking, with the keys text and version, such as\n%s", trackingExample)
		return nil
	}
	t := &TrackingConsent{}
	lines := map[string]int{}
	for i := 0; i+1 < len(fl.node.Content); i += 2 {
		k, v := fl.node.Content[i], fl.node.Content[i+1]
		sub := field{key: "tracking." + k.Value, line: k.Line + 1, node: v}
		lines[k.Value] = sub.line
		switch k.Value {
		case "text":
			t.Text, _ = sub.text(f.Path, ps)
		case "version":
			t.Version, _ = sub.text(f.Path, ps)
		default:
			if s := problem.Suggest(k.Value, trackingKeys); s != "" {
				ps.errorf(f.Path, sub.line, "unknown key %q in tracking: did you mean %q?", k.Value, s)
			} else {
				ps.errorf(f.Path, sub.line, "unknown key %q in tracking: use text and version", k.Value)
			}
		}
	}
	line := func(key string) int {
		if l, ok := lines[key]; ok {
			return l
		}
		return fl.line
	}
	t.Text, t.Version = strings.TrimSpace(t.Text), strings.TrimSpace(t.Version)
	f.Lines["tracking.version"] = line("version")
	if t.Text == "" {
		ps.errorf(f.Path, line("text"), "tracking.text is missing: the sentence beside the checkbox, which the consent ledger keeps with the answer")
	}
	if t.Version == "" {
		ps.errorf(f.Path, line("version"), "tracking.version is missing: a name for this wording, such as tracking-2026-11; change it whenever the wording changes")
	}
	if t.Text == "" || t.Version == "" {
		return nil
	}
	yes := true
	probe, err := lead.Signup{Email: "probe@example.com", ConsentText: "-", ConsentVersion: "-", Tracking: &yes, TrackingText: t.Text, TrackingVersion: t.Version}.Normalize()
	var fe lead.FieldErrors
	if errors.As(err, &fe) {
		if msg, ok := fe["tracking_text"]; ok {
			ps.errorf(f.Path, line("text"), "tracking.text %s", msg)
		}
		if msg, ok := fe["tracking_version"]; ok {
			ps.errorf(f.Path, line("version"), "tracking.version %s", msg)
		}
		return nil
	}
	// What a signup records must be exactly what the page shows.
	t.Text, t.Version = probe.TrackingText, probe.TrackingVersion
	return t
}

// checkTrackingVersions reports a tracking version that names two
// wordings: in two forms, or as a form's consent version too. Consent and
// tracking wordings share their versions, one wording each.
func checkTrackingVersions(forms Forms, ps *problems) {
	type use struct {
		f       *Form
		wording string
	}
	seen := map[string]use{}
	for _, f := range forms {
		if f.ConsentVersion != "" {
			if _, ok := seen[f.ConsentVersion]; !ok {
				seen[f.ConsentVersion] = use{f, f.ConsentText}
			}
		}
	}
	for _, f := range forms {
		t := f.Tracking
		if t == nil {
			continue
		}
		if o, ok := seen[t.Version]; ok && o.wording != t.Text {
			where := "in " + o.f.Path
			if o.f == f {
				where = "as this form's consent_version"
			}
			ps.errorf(f.Path, f.Line("tracking.version"), "tracking.version %q names another wording %s: one version is one wording, so give the tracking question a version of its own", t.Version, where)
		} else if !ok {
			seen[t.Version] = use{f, t.Text}
		}
	}
}
