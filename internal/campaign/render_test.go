package campaign

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/nurture/nurture/internal/lead"
)

// personalised puts the first name in every kind of spot a Markdown mail
// has.
const personalised = `# Hello {{ .Lead.FirstName }}

Dear {{ .Lead.FirstName }}, *{{ .Lead.FirstName }}* and **{{ .Lead.Attr "company" }}**.

- {{ .Lead.FirstName }} in a list
- [{{ .Lead.FirstName }} in a link](https://example.com/a)

| Name | Company |
|------|---------|
| {{ .Lead.FirstName }} | {{ .Lead.Attr "company" }} |

> {{ .Lead.FirstName }} in a quote

` + "`{{ .Lead.FirstName }}`" + ` in code.
`

func TestRender_LeadValuesAreAlwaysText(t *testing.T) {
	t.Parallel()
	st := loadStep(t, `subject: Hi {{ .Lead.FirstName }}
preheader: For {{ .Lead.FirstName }}`, personalised)
	hostile := []string{
		`<b>x</b>`,
		`[win](http://evil.example)`,
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`**bold** _it_ <http://evil.example>`,
		`{{ .UnsubscribeURL }}`,
		`&amp; &lt; \* \`,
		`https://evil.example/x`,
		`O'Brien & "Sons" +1`,
	}
	for _, name := range hostile {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := SampleData()
			d.Lead.FirstName = name
			d.Lead.Attributes["company"] = name
			r := mustRender(t, st, d)

			doc, err := html.Parse(strings.NewReader(r.HTML))
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			for n := range doc.Descendants() {
				switch n.Type {
				case html.TextNode:
					text.WriteString(n.Data)
				case html.ElementNode:
					switch n.Data {
					case "b", "i", "script", "img":
						t.Errorf("the HTML has a <%s> element", n.Data)
					case "a":
						for _, a := range n.Attr {
							if a.Key == "href" && strings.Contains(a.Val, "evil") {
								t.Errorf("the HTML links to %s", a.Val)
							}
						}
					}
					for _, a := range n.Attr {
						if strings.HasPrefix(a.Key, "on") {
							t.Errorf("the HTML has an %s attribute", a.Key)
						}
					}
				}
			}
			// Once each in the title, preheader (HTML only), heading, paragraph (three),
			// list (two), table (two), quote and code.
			if got := strings.Count(text.String(), name); got != 12 {
				t.Errorf("the HTML shows %q %d times as text, want 12:\n%s", name, got, r.HTML)
			}
			if got := strings.Count(r.Text, name); got != 10 {
				t.Errorf("the text shows %q %d times, want 10:\n%s", name, got, r.Text)
			}
			if r.Subject != "Hi "+name {
				t.Errorf("subject = %q, want %q", r.Subject, "Hi "+name)
			}
			if r.Preheader != "For "+name {
				t.Errorf("preheader = %q, want %q", r.Preheader, "For "+name)
			}
		})
	}
}

func TestRender_SubjectNeverHasLineBreaks(t *testing.T) {
	t.Parallel()
	st := loadStep(t, `subject: Hi {{ .Lead.FirstName }}, about {{ .Lead.Attr "company" }}
preheader: "{{ .Lead.FirstName }}"`, "Hello.")
	d := SampleData()
	d.Lead.FirstName = "Jana\r\nBcc: victim@example.com\n"
	d.Lead.Attributes["company"] = "Acme\u2028Inc\tLtd\x00"
	r := mustRender(t, st, d)
	if want := "Hi Jana Bcc: victim@example.com , about Acme Inc Ltd"; r.Subject != want {
		t.Errorf("subject = %q, want %q", r.Subject, want)
	}
	if want := "Jana Bcc: victim@example.com"; r.Preheader != want {
		t.Errorf("preheader = %q, want %q", r.Preheader, want)
	}
}

func TestRender_PlaceholdersWorkInsideLinksAndWithQuotes(t *testing.T) {
	t.Parallel()
	st := loadStep(t, `subject: Hello {{ or .Lead.FirstName "there" }}`,
		`Hi {{ or .Lead.FirstName "there" }}, read [the guide]({{ .BaseURL }}/guide?for={{ .Lead.Email }}&x=1) or [leave]({{ .UnsubscribeURL }}).`)
	d := SampleData()
	d.Lead.FirstName = ""
	d.Lead.Email = "a&b@example.com"
	r := mustRender(t, st, d)
	for _, want := range []string{
		`Hi there, read <a href="https://nurture.example/guide?for=a%26b%40example.com&amp;x=1">the guide</a>`,
		`<a href="https://nurture.example/unsubscribe/SAMPLE-TOKEN">leave</a>`,
	} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("HTML lacks %s:\n%s", want, r.HTML)
		}
	}
	if want := "Hi there, read the guide (https://nurture.example/guide?for=a%26b%40example.com&x=1) or leave (https://nurture.example/unsubscribe/SAMPLE-TOKEN)."; !strings.HasPrefix(r.Text, want) {
		t.Errorf("text = %q, want it to start with %q", r.Text, want)
	}
	if r.Subject != "Hello there" {
		t.Errorf("subject = %q", r.Subject)
	}
}

func TestRender_RewriteURLGetsEveryWebLinkOfTheContent(t *testing.T) {
	t.Parallel()
	st := loadStep(t, `subject: Links`, `See [pricing](https://example.com/pricing), https://example.com/auto,
[the guide]({{ .BaseURL }}/guide), and [pricing again](https://example.com/pricing).
Write to <sales@example.com>.`)
	var got []string
	d := SampleData()
	d.RewriteURL = func(u string) string {
		got = append(got, u)
		return "https://t.example/c/" + string(rune('0'+len(got)))
	}
	r := mustRender(t, st, d)
	want := []string{"https://example.com/pricing", "https://example.com/auto", "https://nurture.example/guide", "https://example.com/pricing"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("RewriteURL got %q, want %q", got, want)
	}
	for _, s := range []string{`<a href="https://t.example/c/1">pricing</a>`, `<a href="https://t.example/c/2">https://example.com/auto</a>`,
		`<a href="https://t.example/c/3">the guide</a>`, `<a href="https://t.example/c/4">pricing again</a>`,
		`<a href="mailto:sales@example.com">sales@example.com</a>`, `<a href="https://nurture.example/unsubscribe/SAMPLE-TOKEN">Unsubscribe</a>`} {
		if !strings.Contains(r.HTML, s) {
			t.Errorf("HTML lacks %s:\n%s", s, r.HTML)
		}
	}
	wantText := "See pricing (https://t.example/c/1), https://t.example/c/2,\nthe guide (https://t.example/c/3), and pricing again (https://t.example/c/4).\nWrite to sales@example.com."
	if !strings.HasPrefix(r.Text, wantText) {
		t.Errorf("text =\n%s\nwant it to start with\n%s", r.Text, wantText)
	}
}

func TestRender_LinkFromALeadValueCannotRunScript(t *testing.T) {
	t.Parallel()
	st := loadStep(t, `subject: Your site`, `Visit [your site]({{ .Lead.Attr "website" }}).`)
	for value, want := range map[string]string{
		"javascript:alert(1)":          `href="#"`,
		" JavaScript:alert(1)":         `href="#"`,
		"data:text/html,<b>x</b>":      `href="#"`,
		"https://nordlicht.example/de": `href="https://nordlicht.example/de"`,
	} {
		d := SampleData()
		d.Lead.Attributes["website"] = value
		if r := mustRender(t, st, d); !strings.Contains(r.HTML, want) {
			t.Errorf("website %q: HTML lacks %s:\n%s", value, want, r.HTML)
		}
	}
}

func TestRender_PlainTextIsReadable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, markdown, want string
	}{
		{"paragraphs", "One line\nand the next.\n\nSecond paragraph.", "One line\nand the next.\n\nSecond paragraph."},
		{"emphasis is plain", "Some *light* and **strong** `code`.", "Some light and strong code."},
		{"escapes and entities", `Five \* stars &amp; a &copy; sign.`, "Five * stars & a © sign."},
		{"link", "Read [the guide](https://example.com/guide).", "Read the guide (https://example.com/guide)."},
		{"link whose text is its address", "[https://example.com/](https://example.com/)", "https://example.com/"},
		{"autolink", "Go to https://example.com/x now.", "Go to https://example.com/x now."},
		{"mail link", "Write to <sales@example.com>.", "Write to sales@example.com."},
		{"image shows its description", "![Our team](https://example.com/team.png)", "Our team"},
		{"headings are underlined", "# Welcome\n\n## Next steps\n\nText.", "Welcome\n=======\n\nNext steps\n----------\n\nText."},
		{"heading with a placeholder fits its underline", "# Hi {{ .Lead.FirstName }}!", "Hi Jana!\n========"},
		{"bullet list", "- one\n- two\n- three", "- one\n- two\n- three"},
		{"loose list", "- one\n\n- two", "- one\n\n- two"},
		{"ordered list keeps its start", "3. three\n4. four", "3. three\n4. four"},
		{"nested list", "- one\n  - inner\n- two", "- one\n  - inner\n- two"},
		{"list item with two lines", "- first line\n  second line", "- first line\n  second line"},
		{"quote", "> Said\n> twice\n>\n> again", "> Said\n> twice\n>\n> again"},
		{"code block", "```\nnurture check\n```", "    nurture check"},
		{"rule", "Above\n\n---\n\nBelow", "Above\n\n* * *\n\nBelow"},
		{"hard break", "Line  \nbreak", "Line\nbreak"},
		{"table lines up its columns", "| Plan | Price |\n|---|---|\n| Basic | 10 € |\n| Enterprise | on request |", "Plan        Price\n----------  ----------\nBasic       10 €\nEnterprise  on request"},
		{"table with placeholders", "| Name | Company |\n|---|---|\n| {{ .Lead.FirstName }} | x |", "Name | Company\nJana | x"},
		{"text that reads like a placeholder stays text", "Use &#123;&#123; braces }}.", "Use {{ braces }}."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := loadStep(t, "subject: Text", tt.markdown)
			r := mustRender(t, st, Data{Lead: SampleLead()})
			got := strings.TrimSuffix(r.Text, "\n\n--\n\nUnsubscribe: \n")
			if got != tt.want {
				t.Errorf("text =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestRender_IfAroundParagraphsLeavesNoGaps(t *testing.T) {
	t.Parallel()
	st := loadStep(t, "subject: If", `Hello.

{{ if .Lead.Attr "company" }}

How is {{ .Lead.Attr "company" }}?

{{ else }}

How is work?

{{ end }}

Bye.`)
	for company, want := range map[string][2]string{
		"Acme": {"<p>Hello.</p>\n\n<p>How is Acme?</p>\n\n<p>Bye.</p>", "Hello.\n\nHow is Acme?\n\nBye."},
		"":     {"<p>Hello.</p>\n\n<p>How is work?</p>\n\n<p>Bye.</p>", "Hello.\n\nHow is work?\n\nBye."},
	} {
		d := Data{Lead: &lead.Lead{Attributes: lead.Attributes{"company": company}}}
		r := mustRender(t, st, d)
		if html := strings.ReplaceAll(r.HTML, "\n\n\n", "\n\n"); !strings.Contains(html, want[0]) {
			t.Errorf("company %q: HTML =\n%s\nwant it to hold\n%s", company, r.HTML, want[0])
		}
		if !strings.HasPrefix(r.Text, want[1]+"\n\n--") {
			t.Errorf("company %q: text =\n%q\nwant it to start with\n%q", company, r.Text, want[1])
		}
	}
}

func TestRender_UsesTheStepsLayout(t *testing.T) {
	t.Parallel()
	st := loadStep(t, "subject: Plain\nlayout: plain", "Just this.")
	r := mustRender(t, st, SampleData())
	if r.HTML != "<div class=\"plain\"><p>Just this.</p>\n</div>" {
		t.Errorf("HTML = %q", r.HTML)
	}
	if r.Text != "Just this." {
		t.Errorf("text = %q", r.Text)
	}
}

func TestRender_WithoutLeadFails(t *testing.T) {
	t.Parallel()
	st := loadStep(t, "subject: Hi", "Hello.")
	if _, err := Render(st, Data{}); err == nil {
		t.Error("Render without a lead succeeded")
	}
}

func BenchmarkRender(b *testing.B) {
	st := loadStep(b, `subject: "{{ .Lead.FirstName }}, your copy of the guide"
preheader: Three things to check this week`, personalised+`
Read [the checklist]({{ .BaseURL }}/checklist?e={{ .Lead.Email }}) or https://example.com/pricing.

{{ if .Lead.Attr "company" }}We would love to help {{ .Lead.Attr "company" }}.{{ end }}
`)
	d := SampleData()
	d.RewriteURL = func(u string) string { return "https://t.example/c?u=" + u }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(st, d); err != nil {
			b.Fatal(err)
		}
	}
}
