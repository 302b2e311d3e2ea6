package web

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
)

// trackingAnswer is what a signup said to a form's tracking question:
// choice is nil when it was not asked; text and version are the words the
// client says it showed ("" leaves them to the form).
type trackingAnswer struct {
	choice        *bool
	text, version string
}

// checkboxAnswer reads a form post's tracking checkbox. A page that shows
// the question posts its version with it, checked or not; a post without
// the version was not asked (an embedded copy from before the form asked,
// say), unless it checked a box, which must then say what it showed.
func checkboxAnswer(f url.Values) (trackingAnswer, lead.FieldErrors) {
	a := trackingAnswer{version: strings.TrimSpace(f.Get("tracking_version")), text: f.Get("tracking_text")}
	box := strings.TrimSpace(f.Get("tracking"))
	var yes bool
	switch strings.ToLower(box) {
	case "":
	case "yes", "on", "true", "1":
		yes = true
	default:
		return a, lead.FieldErrors{"tracking": fmt.Sprintf("is %q: the checkbox posts yes when checked and nothing when not", box)}
	}
	if yes && a.version == "" {
		return a, lead.FieldErrors{"tracking_version": "is missing: a page that shows the tracking question posts its version with the checkbox"}
	}
	if a.version != "" {
		a.choice = &yes
	}
	return a, nil
}

// formTracking is the tracking answer a signup through form f records,
// with the words it answered: the form's, since the person answered what
// the page showed. A version or text that is not the form's current one is
// an error on that field; an answer to a form that asks no such question
// is an error on tracking, except a no, which records a no.
func formTracking(f *campaign.Form, a trackingAnswer, fe lead.FieldErrors) (*bool, string, string) {
	t := f.Tracking
	if t == nil {
		if (a.choice != nil && *a.choice) || a.version != "" || a.text != "" {
			fe["tracking"] = fmt.Sprintf("form %q asks no consent to tracking, so none can be given through it; add tracking: with text and version to its file", f.Slug)
			return nil, "", ""
		}
		return a.choice, "", ""
	}
	if a.version != "" && a.version != t.Version {
		fe["tracking_version"] = fmt.Sprintf("is %q, but the tracking question of form %q is version %q now; read it and send the form again", a.version, f.Slug, t.Version)
	}
	if a.text != "" && strings.TrimSpace(strings.ReplaceAll(a.text, "\r\n", "\n")) != t.Text {
		fe["tracking_text"] = fmt.Sprintf("differs from the tracking question of form %q (version %q), which is the one recorded; read it and send the form again", f.Slug, t.Version)
	}
	if a.choice == nil {
		if a.version != "" || a.text != "" {
			fe["tracking"] = "is missing: send true or false, the person's answer to the form's tracking question"
		}
		return nil, "", ""
	}
	return a.choice, t.Text, t.Version
}

// mergeErrors adds b's errors to a, which may be nil.
func mergeErrors(a, b lead.FieldErrors) lead.FieldErrors {
	if a == nil {
		a = lead.FieldErrors{}
	}
	for k, v := range b {
		a[k] = v
	}
	return a
}
