package campaign

import (
	"cmp"
	"errors"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nurture/nurture/internal/campaign/render"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/problem"
)

// FormsDir is the folder of the campaigns that holds the signup forms, one
// file per form. It is never read as a sequence.
const FormsDir = "forms"

// Form is one signup form, campaigns/forms/<slug>.md: what the page asks
// for, and the consent a signup through it records.
type Form struct {
	Slug           string // the file name without .md: /subscribe/{slug}
	Title          string
	Source         string // what every signup through the form records as its source
	ConsentText    string
	ConsentVersion string
	Fields         []FormField // in order; email is always among them
	ThankYou       string      // text on the "check your inbox" page; "" for the standard one
	Redirect       string      // where to go after a signup instead; "" for the hosted page
	Layout         string      // the page layout, templates/pages/forms/NAME.html
	Button         string
	Default        bool              // said default: true
	Intro          htmltemplate.HTML // the Markdown below the front matter
	Path           string            // of the file
	Lines          map[string]int    // front-matter key → line

	// Tracking is the checkbox that asks for consent to open and click
	// tracking, unchecked until the person checks it; nil when the form
	// does not ask, and its signups are not tracked.
	Tracking *TrackingConsent

	page *htmltemplate.Template // the layout, loaded with the Set
}

// Line returns the line of a front-matter key, or 1 when it is not set.
func (f *Form) Line(key string) int {
	if l, ok := f.Lines[key]; ok {
		return l
	}
	return 1
}

// FormField is one input of a form.
type FormField struct {
	// Name is what the form posts: email, first_name, last_name, or
	// attributes.NAME for every other field.
	Name     string
	Label    string
	Required bool
	Type     string // the input's type: email or text
	// Autocomplete is the browser's hint, such as organization; "" for none.
	Autocomplete string
}

// Attribute is the attribute a field fills in, or "" for email and names.
func (f FormField) Attribute() string {
	a, _ := strings.CutPrefix(f.Name, "attributes.")
	if a == f.Name {
		return ""
	}
	return a
}

var (
	formKeys      = []string{"title", "source", "consent", "consent_version", "fields", "thank_you", "redirect", "layout", "button", "default", "tracking"}
	formFieldKeys = []string{"name", "label", "required"}
	formSlugRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	attrNameRE    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// knownFields are the fields a form may name without a label: their label
// and the browser's autocomplete hint.
var knownFields = map[string][2]string{
	"email":        {"Email", "email"},
	"first_name":   {"First name", "given-name"},
	"last_name":    {"Last name", "family-name"},
	"company":      {"Company", "organization"},
	"job_title":    {"Job title", "organization-title"},
	"company_size": {"Company size", ""},
	"industry":     {"Industry", ""},
	"country":      {"Country", "country-name"},
	"phone":        {"Phone", "tel"},
	"timezone":     {"Time zone", ""},
	"language":     {"Language", "language"},
}

// Forms are the signup forms of a Set, by slug.
type Forms []*Form

// Get returns the form with a slug, or nil.
func (fs Forms) Get(slug string) *Form {
	for _, f := range fs {
		if f.Slug == slug {
			return f
		}
	}
	return nil
}

// Default is the form /subscribe shows: the one that says default: true,
// or else the first by name; nil when there are no forms.
func (fs Forms) Default() *Form {
	for _, f := range fs {
		if f.Default {
			return f
		}
	}
	if len(fs) == 0 {
		return nil
	}
	return fs[0]
}

// loadForms reads dir/forms/*.md. A folder that does not exist means no
// forms.
func loadForms(dir string, templates fs.FS, ps *problems) Forms {
	ls := render.NewPageLayouts(templates, sampleFormView, ps)
	fdir := filepath.Join(dir, FormsDir)
	entries, err := os.ReadDir(fdir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		ps.errorf(fdir, 1, "cannot read: %v", err)
		return nil
	}
	var forms Forms
	for _, e := range entries {
		name := e.Name()
		p := filepath.Join(fdir, name)
		if e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || !strings.HasSuffix(name, ".md") {
			continue
		}
		slug := strings.TrimSuffix(name, ".md")
		if slug == "embed" || slug == "README" {
			if slug == "embed" {
				ps.errorf(p, 1, "a form cannot be named embed: /subscribe/embed is the embed page of the default form; rename the file")
			}
			continue
		}
		if !formSlugRE.MatchString(slug) {
			ps.errorf(p, 1, "form name %q: use lower-case letters, digits, - and _, such as newsletter.md; the name is the form's address, /subscribe/NAME", slug)
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			ps.errorf(p, 1, "cannot read: %v", err)
			continue
		}
		if f := parseForm(p, slug, data, ls, ps); f != nil {
			forms = append(forms, f)
		}
	}
	slices.SortFunc(forms, func(a, b *Form) int { return cmp.Compare(a.Slug, b.Slug) })
	checkForms(forms, ps)
	return forms
}

// checkForms reports what is wrong between forms: one consent version
// with two wordings, and more than one default.
func checkForms(forms Forms, ps *problems) {
	byVersion := map[string]*Form{}
	var def *Form
	checkTrackingVersions(forms, ps)
	for _, f := range forms {
		if f.ConsentVersion != "" {
			if o, ok := byVersion[f.ConsentVersion]; ok && o.ConsentText != f.ConsentText {
				ps.errorf(f.Path, f.Line("consent_version"), "consent_version %q names another wording in %s: one version is one wording, so give this consent a version of its own", f.ConsentVersion, o.Path)
			} else if !ok {
				byVersion[f.ConsentVersion] = f
			}
		}
		if f.Default {
			if def != nil {
				ps.errorf(f.Path, f.Line("default"), "default: true is also set in %s: only one form can be the one /subscribe shows", def.Path)
			}
			def = f
		}
	}
	if def == nil && len(forms) > 1 {
		ps.warnf(forms[0].Path, 1, "no form says default: true, so /subscribe shows this one, the first by name; write default: true in the form it should show")
	}
}

func parseForm(p, slug string, data []byte, ls *render.PageLayouts, ps *problems) *Form {
	f := &Form{Slug: slug, Source: slug, Layout: "default", Button: "Subscribe", Path: p, Lines: map[string]int{}}
	doc, ok := splitDocument(p, data, ps)
	if !ok {
		return nil
	}
	doc.checkKeys(formKeys, ps)
	for _, fl := range doc.fields {
		f.Lines[fl.key] = fl.line
	}
	n := len(*ps)
	text := func(key string, required bool) string {
		fl, ok := doc.get(key)
		if !ok {
			if required {
				ps.errorf(p, 1, "%s is missing: %s", key, formKeyHelp[key])
			}
			return ""
		}
		v, ok := fl.text(p, ps)
		v = strings.TrimSpace(v)
		if ok && v == "" && required {
			ps.errorf(p, fl.line, "%s is empty: %s", key, formKeyHelp[key])
		}
		return v
	}
	f.Title = text("title", true)
	f.ConsentText = text("consent", true)
	f.ConsentVersion = text("consent_version", true)
	if v := text("source", false); v != "" {
		f.Source = v
	}
	f.ThankYou = text("thank_you", false)
	f.Redirect = text("redirect", false)
	f.Layout = cmp.Or(text("layout", false), f.Layout)
	f.Button = cmp.Or(text("button", false), f.Button)
	if fl, ok := doc.get("default"); ok {
		f.Default, _ = fl.boolean(p, ps)
	}
	f.Tracking = formTracking(f, doc, ps)
	checkFormValues(f, ps)
	if t, why := ls.Get(f.Layout); t == nil {
		ps.errorf(p, f.Line("layout"), "%s", why)
	} else {
		f.page = t
	}
	f.Fields = formFields(f, doc, ps)
	intro, err := render.Markdown(doc.body)
	if err != nil {
		ps.errorf(p, doc.bodyLine, "cannot read the Markdown: %v", err)
	}
	f.Intro = intro
	if HasErrors((*ps)[n:]) {
		return nil
	}
	return f
}

var formKeyHelp = map[string]string{
	"title":           "the heading of the form, such as title: Get the newsletter",
	"consent":         "the sentence the person agrees to, which the consent ledger keeps as proof",
	"consent_version": "a name for this wording of the consent, such as newsletter-2026-11; change it whenever the wording changes",
}

// checkFormValues checks the values a signup records and the form's
// settings against what a signup accepts.
func checkFormValues(f *Form, ps *problems) {
	if !lead.ValidSource(f.Source) || f.Source == "" {
		ps.errorf(f.Path, f.Line("source"), "source %q: a source is one word of letters, digits, '.', '_' and '-', at most 64 characters, such as ebook-datensicherheit", f.Source)
	}
	probe, err := lead.Signup{Email: "probe@example.com", Source: f.Source, ConsentText: f.ConsentText, ConsentVersion: f.ConsentVersion}.Normalize()
	var fe lead.FieldErrors
	if errors.As(err, &fe) {
		if msg, ok := fe["consent_text"]; ok && f.ConsentText != "" {
			ps.errorf(f.Path, f.Line("consent"), "consent %s", msg)
		}
		if msg, ok := fe["consent_version"]; ok && f.ConsentVersion != "" {
			ps.errorf(f.Path, f.Line("consent_version"), "consent_version %s", msg)
		}
	} else if probe.ConsentText != f.ConsentText || probe.ConsentVersion != f.ConsentVersion {
		// What a signup records must be exactly what the page shows.
		f.ConsentText, f.ConsentVersion = probe.ConsentText, probe.ConsentVersion
	}
	if f.ThankYou != "" && f.Redirect != "" {
		ps.errorf(f.Path, f.Line("redirect"), "redirect and thank_you exclude each other: after a signup the person either goes to your page or sees the thank-you text")
	}
	if f.Redirect != "" {
		u, err := url.Parse(f.Redirect)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			ps.errorf(f.Path, f.Line("redirect"), "redirect %q is not a full address: write it with https:// and the domain, such as https://example.com/thanks", f.Redirect)
		}
	}
}

// formFields reads fields:, a list of names or of name/label/required
// keys. Email is asked for first when the list does not place it.
func formFields(f *Form, doc *document, ps *problems) []FormField {
	var out []FormField
	seen := map[string]int{}
	add := func(name, label string, required bool, line int) {
		if other, dup := seen[name]; dup {
			ps.errorf(f.Path, line, "field %s is listed twice (first on line %d)", name, other)
			return
		}
		seen[name] = line
		if !attrNameRE.MatchString(name) {
			ps.errorf(f.Path, line, "field %q: a field name has lower-case letters, digits and _, such as company_size", name)
			return
		}
		known := knownFields[name]
		ff := FormField{Name: name, Label: cmp.Or(label, known[0]), Required: required, Type: "text", Autocomplete: known[1]}
		switch name {
		case "email":
			ff.Type, ff.Required = "email", true
		case "first_name", "last_name":
		default:
			ff.Name = "attributes." + name
		}
		if ff.Label == "" {
			ff.Label = strings.ToUpper(name[:1]) + strings.ReplaceAll(name[1:], "_", " ")
		}
		out = append(out, ff)
	}
	fl, ok := doc.get("fields")
	switch {
	case !ok:
	case fl.node.Kind != yaml.SequenceNode:
		ps.errorf(f.Path, fl.line, "fields is a list, one field a line, such as\n  fields:\n    - first_name\n    - name: company\n      required: true")
	default:
		for _, n := range fl.node.Content {
			name, label, required, ok := formFieldItem(f.Path, n, ps)
			if ok {
				add(name, label, required, n.Line+1)
			}
		}
	}
	if _, ok := seen["email"]; !ok {
		add("email", "", true, 1)
		out = slices.Insert(out[:len(out)-1], 0, out[len(out)-1])
	}
	return out
}

// formFieldItem reads one entry of fields: a name, or keys name, label and
// required.
func formFieldItem(p string, n *yaml.Node, ps *problems) (name, label string, required, ok bool) {
	line := n.Line + 1
	switch n.Kind {
	case yaml.ScalarNode:
		return strings.TrimSpace(n.Value), "", false, n.Value != ""
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			sub := field{key: k.Value, line: k.Line + 1, node: v}
			switch k.Value {
			case "name":
				name, _ = sub.text(p, ps)
			case "label":
				label, _ = sub.text(p, ps)
			case "required":
				required, _ = sub.boolean(p, ps)
			default:
				if s := problem.Suggest(k.Value, formFieldKeys); s != "" {
					ps.errorf(p, sub.line, "unknown key %q in a field: did you mean %q?", k.Value, s)
				} else {
					ps.errorf(p, sub.line, "unknown key %q in a field: use name, label and required", k.Value)
				}
			}
		}
		if strings.TrimSpace(name) == "" {
			ps.errorf(p, line, "a field needs a name, such as - name: company")
			return "", "", false, false
		}
		return strings.TrimSpace(name), strings.TrimSpace(label), required, true
	}
	ps.errorf(p, line, "a field is a name, such as company, or keys name, label and required")
	return "", "", false, false
}
