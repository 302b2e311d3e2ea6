package render

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nurture/nurture/internal/lead"
)

// recorder is a Reporter that keeps each problem as path:line: message.
type recorder []string

func (r *recorder) Errorf(path string, line int, format string, args ...any) {
	*r = append(*r, fmt.Sprintf("%s:%d: %s", path, line, fmt.Sprintf(format, args...)))
}

func sample() Data {
	return Data{
		Lead:           &lead.Lead{Email: "jana@example.com", FirstName: "Jana", Attributes: lead.Attributes{"company": "Nordlicht"}},
		BaseURL:        "https://nurture.example",
		UnsubscribeURL: "https://nurture.example/unsubscribe/T",
		Footer:         "Street 1",
		PrivacyURL:     "https://nurture.example/privacy",
	}
}

var layouts = fstest.MapFS{
	"email/layouts/default.html": {Data: []byte(`<title>{{ .Subject }}</title>{{ .Content }}<a href="{{ .UnsubscribeURL }}">{{ .Footer }}</a>`)},
	"email/layouts/default.txt":  {Data: []byte("{{ .Content }}\n--\n{{ .Footer }}")},
	"email/layouts/broken.html":  {Data: []byte(`{{ .Content }`)},
	"email/layouts/broken.txt":   {Data: []byte(`{{ .Content }}`)},
	"email/layouts/nosuch.html":  {Data: []byte(`{{ .Nosuch }}`)},
	"email/layouts/nosuch.txt":   {Data: []byte(`{{ .Content }}`)},
	"email/layouts/half.html":    {Data: []byte(`{{ .Content }}`)},
	"pages/base.html":            {Data: []byte(`{{ define "base" }}<html>{{ template "content" . }}</html>{{ end }}`)},
	"pages/forms/default.html":   {Data: []byte(`{{ define "content" }}{{ .Title }}{{ end }}`)},
	"pages/forms/bad.html":       {Data: []byte(`{{ define "content" }}{{ .Nosuch }}{{ end }}`)},
}

// mail compiles a subject and a body into a Mail in the default layout,
// failing the test on any problem.
func mail(t *testing.T, subject, body string) *Mail {
	t.Helper()
	var r recorder
	m := &Mail{}
	var ok bool
	if m.Subject, ok = CompileLine("m.md", "subject", 2, subject, sample(), &r); !ok {
		t.Fatalf("subject: %v", r)
	}
	if m.Body, ok = CompileBody("m.md", body, 4, sample(), &r); !ok {
		t.Fatalf("body: %v", r)
	}
	var why string
	if m.Layout, why = NewLayouts(layouts, sample(), &r).Get("default"); m.Layout == nil {
		t.Fatalf("layout: %s %v", why, r)
	}
	return m
}

func TestMailRender_FillsInTheLeadAndRewritesLinks(t *testing.T) {
	t.Parallel()
	m := mail(t, "Hi {{ .Lead.FirstName }}", "Hello **{{ .Lead.Attr \"company\" }}**, see [the guide]({{ .BaseURL }}/guide) and <https://example.com/a>.")
	d := sample()
	d.RewriteURL = func(u string) string { return "https://t.example/?u=" + u }
	r, err := m.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Hi Jana" {
		t.Errorf("subject = %q", r.Subject)
	}
	for _, want := range []string{"<strong>Nordlicht</strong>", `href="https://t.example/?u=https://nurture.example/guide"`, `href="https://t.example/?u=https://example.com/a"`, "<title>Hi Jana</title>"} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, r.HTML)
		}
	}
	if want := "Hello Nordlicht, see the guide (https://t.example/?u=https://nurture.example/guide) and https://t.example/?u=https://example.com/a.\n--\nStreet 1"; r.Text != want {
		t.Errorf("text = %q, want %q", r.Text, want)
	}
	if got := m.Body.Links(); len(got) != 1 || got[0] != "https://example.com/a" {
		t.Errorf("links = %v, want the one written out in full", got)
	}
	if _, err := m.Render(Data{}); err == nil || err.Error() != "no lead" {
		t.Errorf("Render without a lead = %v", err)
	}
}

func TestCompileBody_ReportsEachProblemAtItsLine(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ body, want string }{
		{"Say nurtureQX1XQ.", "m.md:4: the words \"nurtureQX\" and \"nurturelink\" are reserved; please rephrase"},
		{"One.\n\n<div>x</div>\n", "m.md:6: HTML is not allowed in a mail's text: write Markdown instead"},
		{"One <b>x</b> and <i>y</i>.", "m.md:4: HTML is not allowed in a mail's text: write Markdown instead (a < followed by a letter starts HTML; write \\< for the character)"},
		{"One.\n[x](/pricing)", "m.md:5: link \"/pricing\" is not a full address: write it with https:// and the domain, such as https://example.com/pricing"},
		{"![x](ftp://example.com/a.png)", "m.md:4: image \"ftp://example.com/a.png\" is not allowed: a image must start with https:// or http://"},
		{"Write to sales@example.com or [us](sales@example.com).", "m.md:4: link \"sales@example.com\" is not a full address: for a mail link write mailto:sales@example.com"},
		{"{{ .Lead.FristName }}", "m.md:4: {{ .Lead.FristName }}: can't evaluate field FristName in type *lead.Lead; did you mean FirstName?"},
		{"{{ .BaseUrl }}", "m.md:4: {{ .BaseUrl }}: can't evaluate field BaseUrl in type render.view; did you mean BaseURL?"},
		{"Hi.\n\n{{ if .Lead.FirstName }}\nYes.", "m.md:6: {{ if .Lead.FirstName }} has no {{ end }}"},
		{"[x]: https://example.com/{{ .Lead.Email }}\n\nHi.", "m.md:4: this placeholder is where Markdown drops text (such as an unused link definition); move it into the text"},
	} {
		var r recorder
		if b, ok := CompileBody("m.md", tt.body, 4, sample(), &r); ok || b != nil {
			t.Errorf("%q compiled", tt.body)
		}
		if len(r) != 1 || r[0] != tt.want {
			t.Errorf("%q:\n got %q\nwant %q", tt.body, r, tt.want)
		}
	}
}

func TestCompileLine_WantsOneLineThatRunsForTheSample(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ src, want string }{
		{"Hi\nthere", "m.md:2: subject must be one line"},
		{"Hi {{ .Lead.Nme }}", `m.md:2: subject: {{ .Lead.Nme }}: can't evaluate field Nme in type *lead.Lead; for a signup form's field write {{ .Lead.Attr "nme" }}`},
		{"Hi {{ .Lead.FirstName ", "m.md:2: subject: unclosed action"},
	} {
		var r recorder
		if tmpl, ok := CompileLine("m.md", "subject", 2, tt.src, sample(), &r); ok || tmpl != nil {
			t.Errorf("%q compiled", tt.src)
		}
		if len(r) != 1 || r[0] != tt.want {
			t.Errorf("%q:\n got %q\nwant %q", tt.src, r, tt.want)
		}
	}
	var r recorder
	if _, ok := CompileLine("m.md", "subject", 2, "", sample(), &r); ok || len(r) != 0 {
		t.Errorf("an empty line compiled, or reported %v", r)
	}
}

func TestLayouts_ReportProblemsOnceAtTheirFiles(t *testing.T) {
	t.Parallel()
	var r recorder
	ls := NewLayouts(layouts, sample(), &r)
	for _, tt := range []struct{ name, why string }{
		{"Fancy", `layout "Fancy": a layout name has lower-case letters, digits, - and _ only`},
		{"gone", `layout "gone" does not exist: the templates have no email/layouts/gone.html`},
		{"half", `layout "half" does not exist: the templates have no email/layouts/half.txt`},
		{"broken", `layout "broken" has errors (see templates/email/layouts/broken)`},
		{"nosuch", `layout "nosuch" has errors (see templates/email/layouts/nosuch)`},
		{"broken", `layout "broken" has errors (see templates/email/layouts/broken)`}, // asked again: reported once
	} {
		if l, why := ls.Get(tt.name); l != nil || why != tt.why {
			t.Errorf("Get(%q) = %v, %q; want %q", tt.name, l, why, tt.why)
		}
	}
	want := []string{
		`templates/email/layouts/broken.html:1: unexpected "}" in operand`,
		`templates/email/layouts/nosuch.html:1: {{ .Nosuch }}: can't evaluate field Nosuch in type render.layoutView`,
	}
	if strings.Join(r, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(r, "\n"), strings.Join(want, "\n"))
	}
	if l, why := NewLayouts(nil, sample(), &r).Get("default"); l != nil || why != "no templates folder to take layouts from" {
		t.Errorf("without templates: %v, %q", l, why)
	}
	l1, _ := ls.Get("default")
	l2, _ := ls.Get("default")
	if l1 == nil || l1 != l2 || l1.Name != "default" || len(l1.Version) != 16 {
		t.Errorf("default = %+v, then %p", l1, l2)
	}
}

func TestPageLayouts_TryEachLayoutOnTheSample(t *testing.T) {
	t.Parallel()
	var r recorder
	asked := []string{}
	ls := NewPageLayouts(layouts, func(name string) any {
		asked = append(asked, name)
		return struct{ Title string }{"Sample"}
	}, &r)
	if tmpl, why := ls.Get("default"); tmpl == nil || why != "" {
		t.Fatalf("default: %q %v", why, r)
	}
	for _, tt := range []struct{ name, why string }{
		{"bad", `layout "bad" has errors (see templates/pages/forms/bad.html)`},
		{"gone", `layout "gone" does not exist: the templates have no pages/forms/gone.html`},
		{"Bad Name", `layout "Bad Name": a layout name has lower-case letters, digits, - and _ only`},
	} {
		if tmpl, why := ls.Get(tt.name); tmpl != nil || why != tt.why {
			t.Errorf("Get(%q) = %v, %q; want %q", tt.name, tmpl, why, tt.why)
		}
	}
	if strings.Join(asked, " ") != "default bad" {
		t.Errorf("sample asked for %v", asked)
	}
	if len(r) != 1 || !strings.HasPrefix(r[0], "templates/pages/forms/bad.html:1: ") {
		t.Errorf("problems = %q", r)
	}
	if tmpl, why := NewPageLayouts(nil, nil, &r).Get("default"); tmpl != nil || why != "no templates folder to take layouts from" {
		t.Errorf("without templates: %v, %q", tmpl, why)
	}
}

func TestMarkdown_RendersAFormsIntroduction(t *testing.T) {
	t.Parallel()
	got, err := Markdown("**The Playbook** – 38 pages.")
	if err != nil || string(got) != "<p><strong>The Playbook</strong> – 38 pages.</p>\n" {
		t.Errorf("Markdown = %q, %v", got, err)
	}
}
