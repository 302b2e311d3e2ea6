package render

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"regexp"
	"strings"
	"sync/atomic"
	texttemplate "text/template"
	"unicode"
	"unicode/utf8"

	"github.com/nurture/nurture/internal/lead"
)

// Data is what one mail is rendered with.
type Data struct {
	Lead *lead.Lead
	// BaseURL is the server's public address without a trailing slash,
	// for links such as [the guide]({{ .BaseURL }}/guide).
	BaseURL        string
	UnsubscribeURL string
	// Footer is the sender's postal address and similar text the layout
	// shows below the mail.
	Footer string
	// PrivacyURL is the privacy policy's address, which the layout links
	// to from its footer; "" when the server has none.
	PrivacyURL string
	// TrackingURL is where a tracked lead withdraws consent to open and
	// click tracking, which the layout links to from its footer; "" for a
	// mail that is not tracked.
	TrackingURL string
	// RewriteURL, when set, gets every http and https link of the mail's
	// content once it is filled in, and returns the address to use instead
	// in both the HTML and the text part; click tracking goes here. The
	// layout's own links, such as unsubscribe, are left alone.
	RewriteURL func(url string) string
}

// Rendered is a mail ready to send.
type Rendered struct {
	Subject   string
	HTML      string
	Text      string
	Preheader string
}

// view is what a step's templates see: {{ .Lead.FirstName }}, {{ .BaseURL }}
// and so on. NurtureLink hands the plain-text part the link addresses the
// HTML part ended up with.
type view struct {
	Lead           *lead.Lead
	BaseURL        string
	UnsubscribeURL string
	NurtureLink    func(i int) string
}

// sampleView is what a step's templates see when they are tried out on
// the sample; the text part's links lead to an example address.
func sampleView(d Data) view {
	return view{
		Lead:           d.Lead,
		BaseURL:        d.BaseURL,
		UnsubscribeURL: d.UnsubscribeURL,
		NurtureLink:    func(int) string { return "https://example.com/" },
	}
}

// layoutView is what a layout sees.
type layoutView struct {
	Content        any // htmltemplate.HTML for the HTML layout, string for the text one
	Subject        string
	Preheader      string
	Footer         string
	PrivacyURL     string
	TrackingURL    string
	UnsubscribeURL string
	BaseURL        string
	Lead           *lead.Lead
}

// Mail is a step's compiled parts, which Render fills in for each lead.
type Mail struct {
	Subject   *texttemplate.Template
	Preheader *texttemplate.Template // nil when the step has none
	Body      *Body
	Layout    *Layout
	sizes     renderSizes
}

// Render fills the mail in for one lead and wraps it in its layout. The
// Markdown was rendered when the mail was compiled; here only templates
// run.
func (m *Mail) Render(d Data) (Rendered, error) {
	if d.Lead == nil {
		return Rendered{}, errors.New("no lead")
	}
	var r Rendered
	v := view{Lead: d.Lead, BaseURL: d.BaseURL, UnsubscribeURL: d.UnsubscribeURL}
	sz := &m.sizes
	out, err := execute(m.Subject, v, &sz.subject)
	if err != nil {
		return r, fmt.Errorf("subject: %w", err)
	}
	r.Subject = oneLine(out)
	if m.Preheader != nil {
		out, err := execute(m.Preheader, v, &sz.preheader)
		if err != nil {
			return r, fmt.Errorf("preheader: %w", err)
		}
		r.Preheader = oneLine(out)
	}
	content, text, err := m.content(v, d.RewriteURL)
	if err != nil {
		return r, err
	}
	lv := layoutView{
		Content:        htmltemplate.HTML(content),
		Subject:        r.Subject,
		Preheader:      r.Preheader,
		Footer:         d.Footer,
		PrivacyURL:     d.PrivacyURL,
		TrackingURL:    d.TrackingURL,
		UnsubscribeURL: d.UnsubscribeURL,
		BaseURL:        d.BaseURL,
		Lead:           d.Lead,
	}
	if r.HTML, err = execute(m.Layout.html, lv, &sz.layoutHTML); err != nil {
		return r, fmt.Errorf("layout %s: %w", m.Layout.Name, err)
	}
	lv.Content = text
	if r.Text, err = execute(m.Layout.text, lv, &sz.layoutText); err != nil {
		return r, fmt.Errorf("layout %s: %w", m.Layout.Name, err)
	}
	return r, nil
}

// content runs the body's templates: the HTML first, whose links, checked
// and rewritten, the text part then shows.
func (m *Mail) content(v view, rewrite func(string) string) (html, text string, err error) {
	out, err := execute(m.Body.html, v, &m.sizes.html)
	if err != nil {
		return "", "", err
	}
	html, links := finishLinks(out, rewrite)
	next := make([]int, len(links))
	v.NurtureLink = func(i int) string {
		if i < 0 || i >= len(links) || len(links[i]) == 0 {
			return ""
		}
		u := links[i][min(next[i], len(links[i])-1)]
		next[i]++
		return strings.TrimPrefix(u, "mailto:")
	}
	out, err = execute(m.Body.text, v, &m.sizes.text)
	if err != nil {
		return "", "", fmt.Errorf("text: %w", err)
	}
	return html, tidyText(out, m.Body.underline), nil
}

// renderSizes remembers how long each of a step's outputs came out, so the
// next render allocates its buffer once instead of growing it from nothing.
type renderSizes struct {
	subject, preheader, html, text, layoutHTML, layoutText atomic.Int64
}

// execute runs a template into a buffer sized by hint, and raises the hint
// when the output outgrew it.
func execute(t interface{ Execute(io.Writer, any) error }, data any, hint *atomic.Int64) (string, error) {
	var b strings.Builder
	b.Grow(int(hint.Load()))
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	if n := int64(b.Len()); n > hint.Load() {
		hint.Store(n + n/8)
	}
	return b.String(), nil
}

// oneLine makes a subject or preheader safe for a header: line breaks and
// other control characters from a lead's values become spaces.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unsafeInLine) {
		return strings.TrimSpace(s)
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unsafeInLine(r) }), " ")
}

func unsafeInLine(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085'
}

var blankLines = regexp.MustCompile(`\n[ \t]*\n(?:[ \t]*\n)+`)

// tidyText drops the extra blank lines that {{ if }} around paragraphs
// leave, and draws heading underlines whose length depends on a lead's
// values.
func tidyText(s string, underline bool) string {
	if underline {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			if ch, ok := strings.CutPrefix(l, headingMarker); ok && i > 0 {
				lines[i] = strings.Repeat(ch, max(3, utf8.RuneCountInString(lines[i-1])))
			}
		}
		s = strings.Join(lines, "\n")
	}
	s = blankLines.ReplaceAllString(s, "\n\n")
	return strings.Trim(s, "\n")
}
