package render

import (
	"strings"
	"testing"
)

// textBody has every kind of block a mail's Markdown has.
const textBody = `# Hello {{ .Lead.FirstName }}

## Plain heading

A paragraph with *emphasis*, ` + "`code`" + ` and a [link](https://example.com/a).
A second line,\
after a hard break.

- tight
- list

1. first

2. loose

> quoted
>
> twice

    indented code

---

| Name | Size |
|------|------|
| Jana | 250 |

| Who | Company |
|-----|---------|
| {{ .Lead.FirstName }} | {{ .Lead.Attr "company" }} |

![Our team](https://example.com/team.jpg)

{{ if .Lead.FirstName }}

Shown.

{{ end }}

Write to <sales@example.com>, &amp; \* done.
`

func TestMailRender_WritesEveryBlockAsReadablePlainText(t *testing.T) {
	t.Parallel()
	r, err := mail(t, "Hi {{ .Lead.FirstName }}", textBody).Render(sample())
	if err != nil {
		t.Fatal(err)
	}
	want := "Hello Jana\n==========\n\nPlain heading\n-------------\n\n" +
		"A paragraph with emphasis, code and a link (https://example.com/a).\nA second line,\nafter a hard break.\n\n" +
		"- tight\n- list\n\n1. first\n\n2. loose\n\n> quoted\n>\n> twice\n\n    indented code\n\n* * *\n\n" +
		"Name  Size\n----  ----\nJana  250\n\nWho | Company\nJana | Nordlicht\n\nOur team\n\nShown.\n\n" +
		"Write to sales@example.com, & * done.\n--\nStreet 1"
	if r.Text != want {
		t.Errorf("text:\n%s\nwant:\n%s", r.Text, want)
	}
	for _, bad := range []string{"<p></p>", "<p>\n</p>", "nurtureQX", "nurturelink"} {
		if strings.Contains(r.HTML, bad) {
			t.Errorf("HTML holds %q:\n%s", bad, r.HTML)
		}
	}
	if !strings.Contains(r.HTML, "<h1>Hello Jana</h1>") || !strings.Contains(r.HTML, `href="mailto:sales@example.com"`) {
		t.Errorf("HTML:\n%s", r.HTML)
	}
}

func TestMailRender_KeepsTheSubjectOnOneLineAndLinksSafe(t *testing.T) {
	t.Parallel()
	m := mail(t, "Hi {{ .Lead.FirstName }}", "Visit [your site]({{ .Lead.Attr \"website\" }}) or [call](tel:+49401234).")
	d := sample()
	d.Lead.FirstName = "Jana\r\nBcc: x@example.com\u2028"
	d.Lead.Attributes["website"] = "javascript:alert(1)"
	r, err := m.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Hi Jana Bcc: x@example.com" {
		t.Errorf("subject = %q", r.Subject)
	}
	if !strings.Contains(r.HTML, `href="#"`) || strings.Contains(r.HTML, "javascript") || !strings.Contains(r.HTML, `href="tel:+49401234"`) {
		t.Errorf("HTML:\n%s", r.HTML)
	}
	if !strings.Contains(r.Text, "your site (#)") || !strings.Contains(r.Text, "call (tel:+49401234)") {
		t.Errorf("text:\n%s", r.Text)
	}
}
