package campaign

import (
	"errors"
	"fmt"
	"html"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"strconv"
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

// layoutView is what a layout sees.
type layoutView struct {
	Content        any // htmltemplate.HTML for the HTML layout, string for the text one
	Subject        string
	Preheader      string
	Footer         string
	PrivacyURL     string
	UnsubscribeURL string
	BaseURL        string
	Lead           *lead.Lead
}

// Render fills a step in for one lead and wraps it in its layout. The
// Markdown was rendered when the step was loaded; here only templates run.
func Render(st *Step, d Data) (Rendered, error) {
	if d.Lead == nil {
		return Rendered{}, fmt.Errorf("campaign: render %s: no lead", st.Key())
	}
	var r Rendered
	v := view{Lead: d.Lead, BaseURL: d.BaseURL, UnsubscribeURL: d.UnsubscribeURL}
	sz := st.sizes
	if sz == nil {
		sz = new(renderSizes)
	}
	out, err := execute(st.subject, v, &sz.subject)
	if err != nil {
		return r, fmt.Errorf("campaign: render %s: subject: %w", st.Key(), err)
	}
	r.Subject = oneLine(out)
	if st.preheader != nil {
		out, err := execute(st.preheader, v, &sz.preheader)
		if err != nil {
			return r, fmt.Errorf("campaign: render %s: preheader: %w", st.Key(), err)
		}
		r.Preheader = oneLine(out)
	}

	out, err = execute(st.body.html, v, &sz.html)
	if err != nil {
		return r, fmt.Errorf("campaign: render %s: %w", st.Key(), err)
	}
	content, links := finishLinks(out, d.RewriteURL)
	next := make([]int, len(links))
	v.NurtureLink = func(i int) string {
		if i < 0 || i >= len(links) || len(links[i]) == 0 {
			return ""
		}
		u := links[i][min(next[i], len(links[i])-1)]
		next[i]++
		return strings.TrimPrefix(u, "mailto:")
	}
	out, err = execute(st.body.text, v, &sz.text)
	if err != nil {
		return r, fmt.Errorf("campaign: render %s: text: %w", st.Key(), err)
	}
	text := tidyText(out, st.body.underline)

	lv := layoutView{
		Content:        htmltemplate.HTML(content),
		Subject:        r.Subject,
		Preheader:      r.Preheader,
		Footer:         d.Footer,
		PrivacyURL:     d.PrivacyURL,
		UnsubscribeURL: d.UnsubscribeURL,
		BaseURL:        d.BaseURL,
		Lead:           d.Lead,
	}
	if r.HTML, err = execute(st.layout.html, lv, &sz.layoutHTML); err != nil {
		return r, fmt.Errorf("campaign: render %s: layout %s: %w", st.Key(), st.Layout, err)
	}
	lv.Content = text
	if r.Text, err = execute(st.layout.text, lv, &sz.layoutText); err != nil {
		return r, fmt.Errorf("campaign: render %s: layout %s: %w", st.Key(), st.Layout, err)
	}
	return r, nil
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

// finishLinks replaces each href="nurturelinkN:ADDRESS" with the address,
// checked and passed through rewrite, and returns the addresses by link
// number in the order they appeared. Values from a lead cannot fake the
// marker: html/template escapes their quotes.
func finishLinks(s string, rewrite func(string) string) (string, [][]string) {
	const open = `href="` + linkMarker
	var links [][]string
	var out strings.Builder
	out.Grow(len(s) + len(s)/8)
	for {
		i := strings.Index(s, open)
		if i < 0 {
			break
		}
		out.WriteString(s[:i])
		rest := s[i+len(open):]
		colon := strings.IndexByte(rest, ':')
		quote := strings.IndexByte(rest, '"')
		n, err := strconv.Atoi(rest[:max(colon, 0)])
		if colon < 0 || quote < colon || err != nil {
			// Not ours after all; keep it as it was.
			out.WriteString(open)
			s = rest
			continue
		}
		u := safeURL(html.UnescapeString(rest[colon+1 : quote]))
		if rewrite != nil && (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
			u = rewrite(u)
		}
		for len(links) <= n {
			links = append(links, nil)
		}
		links[n] = append(links[n], u)
		out.WriteString(`href="`)
		out.WriteString(html.EscapeString(u))
		out.WriteByte('"')
		s = rest[quote+1:]
	}
	out.WriteString(s)
	return out.String(), links
}

// safeURL lets web, mail and phone links through and turns anything else,
// such as a javascript: address from a lead's attribute, into "#".
func safeURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "#"
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host != "" {
			return u.String()
		}
	case "mailto", "tel":
		return u.String()
	}
	return "#"
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

// layout is a pair of templates, email/layouts/NAME.html and .txt, that
// wraps a mail's content.
type layout struct {
	name    string
	version string // of the two files together
	html    *htmltemplate.Template
	text    *texttemplate.Template
}

var layoutNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// layouts loads each layout once per Set and remembers what went wrong.
type layouts struct {
	fsys  fs.FS
	cache map[string]*layout
	bad   map[string]string // name → why it cannot be used
	ps    *problems
}

func newLayouts(fsys fs.FS, ps *problems) *layouts {
	return &layouts{fsys: fsys, cache: map[string]*layout{}, bad: map[string]string{}, ps: ps}
}

// get returns a layout, or why it is unavailable. Problems inside the layout
// files are reported once, at the files.
func (ls *layouts) get(name string) (*layout, string) {
	if l, ok := ls.cache[name]; ok {
		return l, ""
	}
	if why, ok := ls.bad[name]; ok {
		return nil, why
	}
	l, why := ls.load(name)
	if l == nil {
		ls.bad[name] = why
		return nil, why
	}
	ls.cache[name] = l
	return l, ""
}

func (ls *layouts) load(name string) (*layout, string) {
	if !layoutNameRE.MatchString(name) {
		return nil, fmt.Sprintf("layout %q: a layout name has lower-case letters, digits, - and _ only", name)
	}
	if ls.fsys == nil {
		return nil, "no templates folder to take layouts from"
	}
	base := path.Join("email/layouts", name)
	l := &layout{name: name}
	read := func(ext string) (string, string, bool) {
		p := base + ext
		b, err := fs.ReadFile(ls.fsys, p)
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Sprintf("layout %q does not exist: the templates have no %s", name, p), false
		}
		if err != nil {
			return "", fmt.Sprintf("layout %q: %v", name, err), false
		}
		return string(b), "", true
	}
	htmlSrc, why, ok := read(".html")
	if !ok {
		return nil, why
	}
	textSrc, why, ok := read(".txt")
	if !ok {
		return nil, why
	}
	l.version = version([]byte(htmlSrc + "\x00" + textSrc))
	broken := fmt.Sprintf("layout %q has errors (see templates/%s)", name, base)
	var err error
	if l.html, err = htmltemplate.New(name + ".html").Parse(htmlSrc); err != nil {
		ls.layoutError("templates/"+base+".html", err)
		return nil, broken
	}
	if l.text, err = texttemplate.New(name + ".txt").Parse(textSrc); err != nil {
		ls.layoutError("templates/"+base+".txt", err)
		return nil, broken
	}
	sample := SampleData()
	lv := layoutView{Content: htmltemplate.HTML("<p>Hello</p>"), Subject: "Subject", Preheader: "Preheader",
		Footer: sample.Footer, PrivacyURL: sample.PrivacyURL, UnsubscribeURL: sample.UnsubscribeURL, BaseURL: sample.BaseURL, Lead: sample.Lead}
	if err := l.html.Execute(io.Discard, lv); err != nil {
		ls.layoutError("templates/"+base+".html", err)
		return nil, broken
	}
	lv.Content = "Hello"
	if err := l.text.Execute(io.Discard, lv); err != nil {
		ls.layoutError("templates/"+base+".txt", err)
		return nil, broken
	}
	return l, ""
}

func (ls *layouts) layoutError(p string, err error) {
	var he *htmltemplate.Error
	if errors.As(err, &he) && he.Line > 0 {
		ls.ps.errorf(p, he.Line, "%s", he.Description)
		return
	}
	line, msg := templateError(err, path.Base(p))
	ls.ps.errorf(p, line, "%s", msg)
}
