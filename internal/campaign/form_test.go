package campaign

import (
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

var formLayouts = fstest.MapFS{
	"email/layouts/default.html": testLayouts["email/layouts/default.html"],
	"email/layouts/default.txt":  testLayouts["email/layouts/default.txt"],
	"pages/base.html":            {Data: []byte(`{{ define "base" }}<main>{{ template "content" . }}</main>{{ end }}`)},
	"pages/forms/default.html":   {Data: []byte(`{{ define "content" }}{{ .Form.Title }}{{ end }}`)},
}

// Every problem of every form file is reported at its line, and the forms
// folder is never read as a sequence.
func TestLoad_FormsReportEveryProblemAtItsLine(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"forms/a.md": "---\ntitle: A\nconsent: Yes, mail me.\nconsent_version: v1\ndefault: true\n---\n",
		"forms/b.md": "---\ntitle: B\nconsent: Yes, mail me more.\nconsent_version: v1\nsource: Spring Sale!\n" +
			"fields:\n  - company\n  - name: Company Size\n  - name: job_title\n    requird: true\n  - company\n" +
			"layout: fancy\nredirect: example.com/thanks\ndefault: true\ncolour: red\n---\n",
		"forms/c.md":        "---\nconsent_version: v3\nfields: company\n---\n",
		"forms/Bad Name.md": "---\ntitle: X\n---\n",
		"forms/embed.md":    "---\ntitle: X\n---\n",
		"forms/d.md":        "---\ntitle: D\nconsent: \"Yes,\\u0007 mail me.\"\nconsent_version: v4\nthank_you: Thanks!\nredirect: https://example.com/thanks\n---\n",
	})
	set, ps := Load(dir, formLayouts)
	if set != nil {
		t.Fatal("Load returned a Set for forms with errors")
	}
	p := func(name string) string { return filepath.Join(dir, "forms", name) }
	want := []string{
		p("Bad Name.md") + `:1: form name "Bad Name": use lower-case letters, digits, - and _, such as newsletter.md; the name is the form's address, /subscribe/NAME`,
		p("b.md") + `:5: source "Spring Sale!": a source is one word of letters, digits, '.', '_' and '-', at most 64 characters, such as ebook-datensicherheit`,
		p("b.md") + `:8: field "Company Size": a field name has lower-case letters, digits and _, such as company_size`,
		p("b.md") + `:10: unknown key "requird" in a field: did you mean "required"?`,
		p("b.md") + `:11: field company is listed twice (first on line 7)`,
		p("b.md") + `:12: layout "fancy" does not exist: the templates have no pages/forms/fancy.html`,
		p("b.md") + `:13: redirect "example.com/thanks" is not a full address: write it with https:// and the domain, such as https://example.com/thanks`,
		p("b.md") + `:15: unknown key "colour": use one of title, source, consent, consent_version, fields, thank_you, redirect, layout, button, default`,
		p("c.md") + `:1: consent is missing: the sentence the person agrees to, which the consent ledger keeps as proof`,
		p("c.md") + `:1: title is missing: the heading of the form, such as title: Get the newsletter`,
		p("c.md") + `:3: fields is a list, one field a line, such as`,
		p("d.md") + `:3: consent must not contain line breaks or control characters`,
		p("d.md") + `:6: redirect and thank_you exclude each other: after a signup the person either goes to your page or sees the thank-you text`,
		p("embed.md") + `:1: a form cannot be named embed: /subscribe/embed is the embed page of the default form; rename the file`,
	}
	got := wantProblems(t, ps, want)
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d:\n  %s", len(got), len(want), strings.Join(got, "\n  "))
	}
}

// Two valid forms cannot give one consent version two wordings, nor both
// be the default.
func TestLoad_FormsShareNoVersionAcrossWordings(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"forms/a.md": "---\ntitle: A\nconsent: Yes, mail me.\nconsent_version: v1\ndefault: true\n---\n",
		"forms/b.md": "---\ntitle: B\nconsent: Yes, mail me more.\nconsent_version: v1\ndefault: true\n---\n",
	})
	_, ps := Load(dir, formLayouts)
	b := filepath.Join(dir, "forms", "b.md")
	want := []string{
		b + `:4: consent_version "v1" names another wording in ` + filepath.Join(dir, "forms", "a.md") + `: one version is one wording, so give this consent a version of its own`,
		b + `:5: default: true is also set in ` + filepath.Join(dir, "forms", "a.md") + `: only one form can be the one /subscribe shows`,
	}
	if len(ps) != len(want) {
		t.Fatalf("problems %v, want %v", ps, want)
	}
	for i, p := range ps {
		if p.String() != want[i] {
			t.Errorf("problem %d\n  %s\nwant\n  %s", i, p, want[i])
		}
	}
}

// A valid form: its fields in order with email first, its source by
// default its name, the default form chosen by default: true or by name.
func TestLoad_FormsAndTheDefault(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"forms/b.md":          "---\ntitle: Get: the e-book\nconsent: Yes, \"send\" it: now.\nconsent_version: b1\nfields:\n  - name: company\n    required: true\n  - first_name\n  - name: team_size\n---\nThe **book**.\n",
		"forms/a.md":          "---\ntitle: A\nconsent: Yes.\nconsent_version: a1\nsource: newsletter\n---\n",
		"welcome/sequence.md": testSequence,
		"welcome/01-hi.md":    "---\nsubject: Hi\n---\nHi.\n",
	})
	set, ps := Load(dir, formLayouts)
	if set == nil {
		t.Fatal(ps)
	}
	if len(set.Sequences) != 1 || len(set.Forms) != 2 {
		t.Fatalf("%d sequences, %d forms", len(set.Sequences), len(set.Forms))
	}
	b := set.Forms.Get("b")
	if b.Title != "Get: the e-book" || b.ConsentText != `Yes, "send" it: now.` || b.Source != "b" || !strings.Contains(string(b.Intro), "<strong>book</strong>") {
		t.Errorf("form b: %+v", b)
	}
	var names []string
	for _, f := range b.Fields {
		names = append(names, f.Name+"/"+f.Label+map[bool]string{true: "*"}[f.Required])
	}
	if got := strings.Join(names, " "); got != "email/Email* attributes.company/Company* first_name/First name attributes.team_size/Team size" {
		t.Errorf("fields %s", got)
	}
	if d := set.Forms.Default(); d.Slug != "a" || set.Forms.Get("a").Source != "newsletter" {
		t.Errorf("default %s", d.Slug)
	}
	if len(ps) != 1 || !strings.Contains(ps[0].Msg, "no form says default: true") {
		t.Errorf("warnings %v", ps)
	}
}

// A form's page layout is loaded and tried with the Set, so a mistake in it
// is a problem at its line, and the form names the layout it cannot use.
func TestLoad_FormLayoutsAreTriedAtLoad(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"forms/a.md": "---\ntitle: A\nconsent: Yes.\nconsent_version: v1\nlayout: broken\n---\n",
	})
	tpl := fstest.MapFS{
		"pages/base.html":         formLayouts["pages/base.html"],
		"pages/forms/broken.html": {Data: []byte("{{ define \"content\" }}\n{{ .Form.Titel }}{{ end }}")},
	}
	_, ps := Load(dir, tpl)
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{
		filepath.Join(dir, "forms", "a.md") + `:5: layout "broken" has errors (see templates/pages/forms/broken.html)`,
		`templates/pages/forms/broken.html:2: `,
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], want[0]) || !strings.HasPrefix(got[1], want[1]) || !strings.Contains(got[1], "Titel") {
		t.Errorf("problems\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
