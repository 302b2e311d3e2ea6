package campaign

import (
	"strings"
	"testing"
)

// One run of check must show every problem of a file that does not depend
// on another: a broken placeholder or broken settings do not hide the HTML
// and the relative link further down.
func TestLoad_ReportsEveryIndependentProblemOfAFileAtOnce(t *testing.T) {
	t.Parallel()
	const rest = "\n\nSee <b>this</b> and [pricing](/pricing).\n"
	for _, tt := range []struct {
		name, file string
		want       []string
	}{
		{
			name: "a misspelt placeholder",
			file: "---\nsubject: A\n---\nHi {{ .Lead.FristName }}," + rest,
			want: []string{
				`s/01-a.md:4: {{ .Lead.FristName }}: can't evaluate field FristName in type *lead.Lead; did you mean FirstName?`,
				`s/01-a.md:6: HTML is not allowed in a mail's text: write Markdown instead (a < followed by a letter starts HTML; write \< for the character)`,
				`s/01-a.md:6: link "/pricing" is not a full address: write it with https:// and the domain, such as https://example.com/pricing`,
			},
		},
		{
			name: "three misspelt placeholders",
			file: "---\nsubject: A\n---\nHi {{ or .Lead.FristName \"there\" }},\n\n{{ with .Lead.Emial }}Yours: {{ . }}{{ end }} At {{ .Lead.Compnay }}." + rest,
			want: []string{
				`s/01-a.md:4: {{ .Lead.FristName }}: can't evaluate field FristName in type *lead.Lead; did you mean FirstName?`,
				`s/01-a.md:6: {{ .Lead.Emial }}: can't evaluate field Emial in type *lead.Lead; did you mean Email?`,
				`s/01-a.md:6: {{ .Lead.Compnay }}: can't evaluate field Compnay in type *lead.Lead; for a signup form's field write {{ .Lead.Attr "compnay" }}`,
				`s/01-a.md:8: HTML is not allowed in a mail's text: write Markdown instead (a < followed by a letter starts HTML; write \< for the character)`,
				`s/01-a.md:8: link "/pricing" is not a full address: write it with https:// and the domain, such as https://example.com/pricing`,
			},
		},
		{
			name: "two misspelt placeholders in the subject",
			file: "---\nsubject: Hi {{ .Lead.FristName }} at {{ .Lead.Compnay }}\n---\nHi.\n",
			want: []string{
				`s/01-a.md:2: subject: {{ .Lead.FristName }}: can't evaluate field FristName in type *lead.Lead; did you mean FirstName?`,
				`s/01-a.md:2: subject: {{ .Lead.Compnay }}: can't evaluate field Compnay in type *lead.Lead; for a signup form's field write {{ .Lead.Attr "compnay" }}`,
			},
		},
		{
			name: "an unclosed with in the subject",
			file: "---\nsubject: Hi{{ with .Lead.FirstName }} {{ . }}\n---\nHi.\n",
			want: []string{`s/01-a.md:2: subject: {{ with .Lead.FirstName }} has no {{ end }}`},
		},
		{
			name: "a form field compared with a number, said once",
			file: "---\nsubject: A\nif: attr.company > 3\n---\nHi.\n",
			want: []string{`s/01-a.md:3: warning: if: attr.company > 3 is never true for a lead whose form sent "250" or nothing: forms send text, so compare through number(): number(attr.company) > 3`},
		},
		{
			name: "an unclosed if",
			file: "---\nsubject: A\n---\n{{ if .Lead.FirstName }}\nHi {{ .Lead.FirstName }}," + rest,
			want: []string{
				`s/01-a.md:4: {{ if .Lead.FirstName }} has no {{ end }}`,
				`s/01-a.md:7: HTML is not allowed in a mail's text: write Markdown instead (a < followed by a letter starts HTML; write \< for the character)`,
				`s/01-a.md:7: link "/pricing" is not a full address: write it with https:// and the domain, such as https://example.com/pricing`,
			},
		},
		{
			name: "broken settings",
			file: "---\nsubject: A\ndelay: [1d\n---\nHi," + rest,
			want: []string{
				`s/01-a.md:3: front matter is not valid YAML: did not find expected ',' or ']'; a value that starts with { or [ is read as YAML structure: put the whole value in quotes`,
				`s/01-a.md:7: HTML is not allowed in a mail's text: write Markdown instead (a < followed by a letter starts HTML; write \< for the character)`,
				`s/01-a.md:7: link "/pricing" is not a full address: write it with https:// and the domain, such as https://example.com/pricing`,
			},
		},
		{
			name: "a subject, a condition and the text",
			file: "---\nsubject: Hi {{ .Lead.FirstNme }}\nif: score =< 3\n---\n{{ .Lead.Emial }}" + rest,
			want: []string{
				`s/01-a.md:2: subject: {{ .Lead.FirstNme }}: can't evaluate field FirstNme in type *lead.Lead; did you mean FirstName?`,
				`s/01-a.md:3: if: write <= instead of =< (column 7)`,
				`s/01-a.md:5: {{ .Lead.Emial }}: can't evaluate field Emial in type *lead.Lead; did you mean Email?`,
				`s/01-a.md:7: HTML is not allowed in a mail's text: write Markdown instead (a < followed by a letter starts HTML; write \< for the character)`,
				`s/01-a.md:7: link "/pricing" is not a full address: write it with https:// and the domain, such as https://example.com/pricing`,
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := problemsOf(t, map[string]string{"s/sequence.md": testSequence, "s/01-a.md": tt.file}, testLayouts)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoad_SuggestsTheFullAddressALinkWasMeantToBe(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ link, want string }{
		{"example.com/pricing", `link "example.com/pricing" is not a full address: write it with https:// and the domain, such as https://example.com/pricing`},
		{"www.acme.de/preise?plan=team", `link "www.acme.de/preise?plan=team" is not a full address: write it with https:// and the domain, such as https://www.acme.de/preise?plan=team`},
		{"//example.com/pricing", `link "//example.com/pricing" is not a full address: write it with https:// and the domain, such as https://example.com/pricing`},
		{"Https:/example.com/pricing", `link "Https:/example.com/pricing" is not a full address: write it with https:// and the domain, such as https://example.com/pricing`},
		{"example.com:8443/pricing", `link "example.com:8443/pricing" is not a full address: write it with https:// and the domain, such as https://example.com:8443/pricing`},
		{"/pricing", `link "/pricing" is not a full address: write it with https:// and the domain, such as https://example.com/pricing`},
		{"pricing.html", `link "pricing.html" is not a full address: write it with https:// and the domain, such as https://example.com/pricing.html`},
		{"blog/post", `link "blog/post" is not a full address: write it with https:// and the domain, such as https://example.com/blog/post`},
		{"sales@example.com", `link "sales@example.com" is not a full address: for a mail link write mailto:sales@example.com`},
	} {
		got := problemsOf(t, map[string]string{
			"s/sequence.md": testSequence,
			"s/01-a.md":     "---\nsubject: A\n---\nSee [it](" + tt.link + ").\n",
		}, testLayouts)
		if want := "s/01-a.md:4: " + tt.want; len(got) != 1 || got[0] != want {
			t.Errorf("[it](%s):\n got: %s\nwant: %s", tt.link, strings.Join(got, "\n      "), want)
		}
	}
}
