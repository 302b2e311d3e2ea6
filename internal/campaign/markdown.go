package campaign

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/typo"
)

// How a step's body becomes two templates: every {{ … }} action is swapped
// for an inert placeholder word, so that Markdown neither escapes the quotes
// inside it nor breaks a link whose destination holds one. Goldmark renders
// the Markdown to HTML, a walk of the same tree writes the plain text, and
// the actions go back in. The HTML is then parsed as html/template, which
// escapes whatever a lead's values contain for the spot they land in, and the
// text as text/template. Lead values therefore never pass through Markdown:
// they always arrive as text.
//
// Links get a marker in front of their destination, "nurturelinkN:", that
// Render replaces after executing the template: it sees each link's final
// address there, checks its scheme, passes it through Data.RewriteURL, and
// hands the same address to the plain-text part.

const (
	placeholderPrefix = "nurtureQX"
	placeholderSuffix = "XQ"
	linkMarker        = "nurturelink"
)

var placeholderRE = regexp.MustCompile(placeholderPrefix + `(L?)(\d+)` + placeholderSuffix)

var markdown = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Linkify))

// action is one {{ … }} of a body as written.
type action struct {
	text   string
	line   int // line of the body, from 1
	silent bool
	index  int
	orig   int // offset in the body
	at     int // offset in the protected source
}

// body is a step's Markdown compiled into templates, once per version.
type body struct {
	html      *htmltemplate.Template
	text      *texttemplate.Template
	links     []string
	underline bool // the text part has headings whose underline is measured at render time
}

// compileBody turns a step's Markdown into its HTML and text templates and
// checks its links. Lines in problems are counted from firstLine, the line of
// the file where the body starts.
func compileBody(path, src string, firstLine int, sample view, ps *problems) (*body, bool) {
	fileLine := func(bodyLine int) int { return firstLine + bodyLine - 1 }
	if strings.Contains(src, placeholderPrefix) || strings.Contains(src, linkMarker) {
		ps.errorf(path, firstLine, "the words %q and %q are reserved; please rephrase", placeholderPrefix, linkMarker)
		return nil, false
	}
	actions, protected := protectActions(src)
	// A broken placeholder does not hide the other problems of the text:
	// the Markdown is checked all the same.
	ok := checkPlaceholders(path, "", src, fileLine, sample, actions, ps)
	lineAt := func(offset int) int {
		orig := offset
		for _, a := range actions {
			phEnd := a.at + len(placeholder(false, a.index))
			switch {
			case offset >= phEnd:
				orig = offset - phEnd + a.orig + len(a.text)
			case offset >= a.at:
				orig = a.orig
			}
		}
		return fileLine(1 + strings.Count(src[:min(orig, len(src))], "\n"))
	}

	source := []byte(protected)
	doc := markdown.Parser().Parse(text.NewReader(source))
	b := &body{}
	tr := &textRenderer{source: source, links: map[*ast.Link]linkInfo{}}
	htmlLines := map[int]bool{} // one complaint per line about HTML
	var silentParagraphs []*ast.Paragraph
	var autolinks []*ast.AutoLink
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.HTMLBlock:
			ps.errorf(path, lineAt(n.Lines().At(0).Start), "HTML is not allowed in a mail's text: write Markdown instead")
			ok = false
		case *ast.RawHTML:
			if l := lineAt(n.Segments.At(0).Start); !htmlLines[l] {
				htmlLines[l] = true
				ps.errorf(path, l, "HTML is not allowed in a mail's text: write Markdown instead (a < followed by a letter starts HTML; write \\< for the character)")
			}
			ok = false
		case *ast.Paragraph:
			if isSilent(n, source, actions) {
				silentParagraphs = append(silentParagraphs, n)
			}
		case *ast.AutoLink:
			autolinks = append(autolinks, n)
		case *ast.Link:
			if !checkLink(path, lineAt(nodeOffset(n)), string(n.Destination), false, b, ps) {
				ok = false
			}
		case *ast.Image:
			if !checkLink(path, lineAt(nodeOffset(n)), string(n.Destination), true, b, ps) {
				ok = false
			}
		}
		return ast.WalkContinue, nil
	})
	// Autolinks become ordinary links, so that one kind of node carries
	// every rewritable address.
	for _, a := range autolinks {
		dest := string(a.URL(source))
		if a.AutoLinkType == ast.AutoLinkEmail && !strings.HasPrefix(strings.ToLower(dest), "mailto:") {
			dest = "mailto:" + dest
		}
		if !checkLink(path, lineAt(nodeOffset(a)), dest, false, b, ps) {
			ok = false
		}
		l := ast.NewLink()
		l.Destination = []byte(dest)
		l.AppendChild(l, ast.NewString(a.Label(source)))
		a.Parent().ReplaceChild(a.Parent(), a, l)
		tr.links[l] = linkInfo{auto: true}
	}
	if !ok {
		return nil, false
	}
	// A paragraph holding only {{ if }}, {{ end }} and the like would leave
	// an empty <p> behind; render its content without one.
	for _, p := range silentParagraphs {
		tb := ast.NewTextBlock()
		for c := p.FirstChild(); c != nil; {
			next := c.NextSibling()
			tb.AppendChild(tb, c)
			c = next
		}
		p.Parent().ReplaceChild(p.Parent(), p, tb)
	}
	n := 0
	inLinks := map[int]bool{} // actions in link addresses, which the text part takes from the HTML
	_ = ast.Walk(doc, func(node ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, isLink := node.(*ast.Link); isLink && entering {
			info := tr.links[l]
			info.index = n
			info.dest = string(l.Destination)
			tr.links[l] = info
			for _, m := range placeholderRE.FindAllStringSubmatch(info.dest, -1) {
				i, _ := strconv.Atoi(m[2])
				inLinks[i] = true
			}
			l.Destination = []byte(linkMarker + strconv.Itoa(n) + ":" + string(l.Destination))
			n++
		}
		return ast.WalkContinue, nil
	})

	var hb bytes.Buffer
	if err := markdown.Renderer().Render(&hb, source, doc); err != nil {
		ps.errorf(path, firstLine, "cannot render the Markdown: %v", err)
		return nil, false
	}
	textSrc := tr.render(doc)
	b.underline = strings.Contains(textSrc, headingMarker)

	htmlSrc, errLine := restore(hb.String(), actions, nil)
	if errLine == 0 {
		textSrc, errLine = restore(textSrc, actions, inLinks)
	}
	if errLine != 0 {
		ps.errorf(path, fileLine(errLine), "this placeholder is where Markdown drops text (such as an unused link definition); move it into the text")
		return nil, false
	}
	var err error
	if b.html, err = htmltemplate.New(path).Option("missingkey=error").Parse(htmlSrc); err != nil {
		ps.errorf(path, firstLine, "placeholders do not fit the mail's HTML: %v", err)
		return nil, false
	}
	if b.text, err = texttemplate.New(path).Option("missingkey=error").Parse(textSrc); err != nil {
		ps.errorf(path, firstLine, "placeholders do not fit the mail's text: %v", err)
		return nil, false
	}
	return b, true
}

func placeholder(link bool, i int) string {
	l := ""
	if link {
		l = "L"
	}
	return placeholderPrefix + l + strconv.Itoa(i) + placeholderSuffix
}

// protectActions swaps every {{ … }} in src for a placeholder word.
func protectActions(src string) ([]action, string) {
	var actions []action
	var out strings.Builder
	line := 1
	last := 0
	for i := 0; i < len(src); {
		if !strings.HasPrefix(src[i:], "{{") {
			if src[i] == '\n' {
				line++
			}
			i++
			continue
		}
		end := actionEnd(src, i)
		out.WriteString(src[last:i])
		a := action{text: src[i:end], line: line, index: len(actions), orig: i, at: out.Len()}
		a.silent = isSilentAction(a.text)
		out.WriteString(placeholder(false, len(actions)))
		actions = append(actions, a)
		line += strings.Count(a.text, "\n")
		i, last = end, end
	}
	out.WriteString(src[last:])
	return actions, out.String()
}

// actionEnd returns the offset just after the action that starts at i,
// skipping quoted strings and comments the way text/template's lexer does.
func actionEnd(src string, i int) int {
	j := i + 2
	for j < len(src) {
		switch c := src[j]; {
		case strings.HasPrefix(src[j:], "}}"):
			return j + 2
		case strings.HasPrefix(src[j:], "/*"):
			if k := strings.Index(src[j+2:], "*/"); k >= 0 {
				j += k + 4
				continue
			}
			return len(src)
		case c == '"' || c == '\'':
			j++
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j++
		case c == '`':
			if k := strings.IndexByte(src[j+1:], '`'); k >= 0 {
				j += k + 2
				continue
			}
			return len(src)
		default:
			j++
		}
	}
	return len(src)
}

var assignRE = regexp.MustCompile(`^\$\w*\s*:?=`)

// isSilentAction reports whether an action prints nothing itself: control
// structure, comments and variable assignments.
func isSilentAction(a string) bool {
	in := strings.TrimPrefix(strings.TrimSuffix(a, "}}"), "{{")
	in = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(in, "-"), "-"))
	if strings.HasPrefix(in, "/*") || assignRE.MatchString(in) {
		return true
	}
	word, _, _ := strings.Cut(in, " ")
	switch word {
	case "if", "else", "end", "range", "with", "define", "block", "break", "continue":
		return true
	}
	return false
}

// isSilent reports whether a paragraph holds nothing but silent actions.
func isSilent(p *ast.Paragraph, source []byte, actions []action) bool {
	var all strings.Builder
	for i := 0; i < p.Lines().Len(); i++ {
		seg := p.Lines().At(i)
		all.Write(seg.Value(source))
	}
	rest := placeholderRE.ReplaceAllStringFunc(all.String(), func(ph string) string {
		i, _ := strconv.Atoi(placeholderRE.FindStringSubmatch(ph)[2])
		if i < len(actions) && actions[i].silent {
			return ""
		}
		return ph
	})
	return strings.TrimSpace(rest) == "" && all.Len() > 0
}

// restore puts the actions back in place of their placeholders, and link
// lookups in place of link placeholders. Text outside actions that happens
// to read {{ is escaped so it stays text. It returns the body line of an
// action that got lost or duplicated on the way, or 0; optional actions may
// be missing.
func restore(s string, actions []action, optional map[int]bool) (string, int) {
	s = strings.ReplaceAll(s, "{{", "{{`{{`}}")
	seen := make([]int, len(actions))
	out := placeholderRE.ReplaceAllStringFunc(s, func(ph string) string {
		m := placeholderRE.FindStringSubmatch(ph)
		i, _ := strconv.Atoi(m[2])
		if m[1] == "L" {
			return "{{call $.NurtureLink " + m[2] + "}}"
		}
		if i >= len(actions) {
			return ph
		}
		seen[i]++
		return actions[i].text
	})
	for i, a := range actions {
		if (seen[i] == 0 && !optional[i]) || (a.silent && seen[i] > 1) {
			return "", a.line
		}
	}
	return out, 0
}

// nodeOffset finds where an inline node starts in the source: by its
// position when the parser noted one, or else by the text around it.
func nodeOffset(n ast.Node) int {
	if p := n.Pos(); p >= 0 {
		return p
	}
	at := -1
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering {
			at = t.Segment.Start
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	if at >= 0 {
		return at
	}
	if t, ok := n.PreviousSibling().(*ast.Text); ok {
		if t.SoftLineBreak() || t.HardLineBreak() {
			return t.Segment.Stop + 1
		}
		return t.Segment.Stop
	}
	for p := n.Parent(); p != nil; p = p.Parent() {
		if p.Type() == ast.TypeBlock && p.Lines().Len() > 0 {
			return p.Lines().At(0).Start
		}
	}
	return 0
}

// checkLink reports a link destination that is not an absolute web address.
// Destinations that start with a placeholder, such as {{ .UnsubscribeURL }},
// are checked when the mail is rendered.
func checkLink(path string, line int, dest string, image bool, b *body, ps *problems) bool {
	kind := "link"
	if image {
		kind = "image"
	}
	if strings.HasPrefix(dest, placeholderPrefix) {
		return true
	}
	static, _, templated := strings.Cut(dest, placeholderPrefix)
	u, err := url.Parse(static)
	if err != nil && !templated {
		ps.errorf(path, line, "%s %q is not a valid address: %v", kind, dest, err)
		return false
	}
	scheme := ""
	if u != nil {
		scheme = strings.ToLower(u.Scheme)
	}
	shown := placeholderRE.ReplaceAllString(dest, "{{…}}")
	switch {
	case (scheme == "http" || scheme == "https") && u.Host != "":
		if !templated {
			b.links = append(b.links, dest)
		}
		return true
	case !image && (scheme == "mailto" || scheme == "tel"):
		return true
	case !image && scheme == "" && mailAddressRE.MatchString(static):
		ps.errorf(path, line, "%s %q is not a full address: for a mail link write mailto:%s", kind, shown, static)
	case scheme == "" || scheme == "http" || scheme == "https" || strings.Contains(scheme, "."):
		ps.errorf(path, line, "%s %q is not a full address: write it with https:// and the domain, such as %s", kind, shown, fullAddress(static))
	default:
		ps.errorf(path, line, "%s %q is not allowed: a %s must start with https:// or http://", kind, shown, kind)
	}
	return false
}

var (
	templateLineRE = regexp.MustCompile(`^template: [^:]+:(\d+):(?:\d+:)? ?(.*)$`)
	executingRE    = regexp.MustCompile(`^executing "[^"]*" at <(.*?)>: (.*)$`)
	fieldRE        = regexp.MustCompile(`can't evaluate field (\w+) in type (\S+)$`)
)

// templateError pulls the line and a readable message out of a
// text/template error, suggesting the field meant when one is misspelt.
func templateError(err error, name string) (int, string) {
	msg := err.Error()
	m := templateLineRE.FindStringSubmatch(msg)
	if m == nil {
		return 0, strings.TrimPrefix(msg, "template: "+name+": ")
	}
	line, _ := strconv.Atoi(m[1])
	msg = m[2]
	if e := executingRE.FindStringSubmatch(msg); e != nil {
		msg = fmt.Sprintf("{{ %s }}: %s", e[1], e[2])
	}
	if f := fieldRE.FindStringSubmatch(msg); f != nil {
		if s := typo.Suggest(f[1], templateFields[f[2]]); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		} else if f[2] == "*lead.Lead" {
			msg += `; for a signup form's field write {{ .Lead.Attr "` + strings.ToLower(f[1]) + `" }}`
		}
	}
	if msg == "unexpected EOF" {
		msg = "a placeholder is not closed: each {{ if }}, {{ range }} and {{ with }} needs an {{ end }}"
	}
	return line, msg
}

// templateFields are the names a template may use after a dot, by the type
// text/template names in its errors.
var templateFields = map[string][]string{
	"*lead.Lead":    methodsAndFields(reflect.TypeFor[*lead.Lead]()),
	"campaign.view": {"Lead", "BaseURL", "UnsubscribeURL"},
}

func methodsAndFields(t reflect.Type) []string {
	var names []string
	for i := range t.NumMethod() {
		names = append(names, t.Method(i).Name)
	}
	for i := range t.Elem().NumField() {
		names = append(names, t.Elem().Field(i).Name)
	}
	return names
}

// unclosedBlock finds the {{ if }}, {{ range }}, {{ with }} or {{ block }}
// that lacks its {{ end }}, for a clearer message than "unexpected EOF".
func unclosedBlock(actions []action) (action, bool) {
	var open []action
	for _, a := range actions {
		in := strings.TrimSpace(strings.Trim(strings.TrimSuffix(strings.TrimPrefix(a.text, "{{"), "}}"), "-"))
		word, _, _ := strings.Cut(in, " ")
		switch word {
		case "if", "range", "with", "block", "define":
			open = append(open, a)
		case "end":
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
	if len(open) == 0 {
		return action{}, false
	}
	return open[len(open)-1], true
}

// linkInfo is what the text renderer knows of a link.
type linkInfo struct {
	index int
	dest  string // with placeholders, before the marker went in
	auto  bool
}

// headingMarker on a line of its own stands for an underline as long as the
// line above it once the placeholders are filled in.
const headingMarker = "\x00underline"

// textRenderer writes a Markdown tree as readable plain text: paragraphs
// separated by blank lines, "- " lists, links as "text (address)" and
// underlined headings.
type textRenderer struct {
	source []byte
	links  map[*ast.Link]linkInfo
}

func (r *textRenderer) render(doc ast.Node) string {
	return r.blocks(doc, "\n\n")
}

func (r *textRenderer) blocks(parent ast.Node, sep string) string {
	var parts []string
	for c := parent.FirstChild(); c != nil; c = c.NextSibling() {
		if s := r.block(c); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, sep)
}

func (r *textRenderer) block(n ast.Node) string {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		return strings.TrimRight(r.inlines(n), " \n")
	case *ast.Heading:
		t := strings.TrimSpace(r.inlines(n))
		ch := "-"
		if n.Level == 1 {
			ch = "="
		}
		if placeholderRE.MatchString(t) {
			return t + "\n" + headingMarker + ch
		}
		return t + "\n" + strings.Repeat(ch, utf8.RuneCountInString(t))
	case *ast.ThematicBreak:
		return "* * *"
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		var b strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.WriteString("    ")
			b.Write(seg.Value(r.source))
		}
		return strings.TrimRight(b.String(), "\n ")
	case *ast.Blockquote:
		inner := r.blocks(n, "\n\n")
		return prefixLines(inner, "> ", ">")
	case *ast.List:
		sep := "\n\n"
		if n.IsTight {
			sep = "\n"
		}
		var items []string
		i := 0
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			marker := "- "
			if n.IsOrdered() {
				marker = strconv.Itoa(n.Start+i) + ". "
			}
			inner := r.blocks(c, sep)
			items = append(items, marker+indentRest(inner, strings.Repeat(" ", len(marker))))
			i++
		}
		return strings.Join(items, sep)
	case *ast.HTMLBlock:
		return ""
	case *extast.Table:
		return r.table(n)
	}
	return r.blocks(n, "\n\n")
}

// table lines the columns up when the cells hold no placeholders, whose
// width is known only per lead, and separates them with | otherwise.
func (r *textRenderer) table(t *extast.Table) string {
	var rows [][]string
	templated := false
	for row := t.FirstChild(); row != nil; row = row.NextSibling() {
		var cells []string
		for cell := row.FirstChild(); cell != nil; cell = cell.NextSibling() {
			c := strings.ReplaceAll(strings.TrimSpace(r.inlines(cell)), "\n", " ")
			templated = templated || placeholderRE.MatchString(c)
			cells = append(cells, c)
		}
		rows = append(rows, cells)
	}
	if templated {
		lines := make([]string, len(rows))
		for i, cells := range rows {
			lines[i] = strings.Join(cells, " | ")
		}
		return strings.Join(lines, "\n")
	}
	var widths []int
	for _, cells := range rows {
		for i, c := range cells {
			if i >= len(widths) {
				widths = append(widths, 3)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string) string {
		var b strings.Builder
		for i, c := range cells {
			b.WriteString(c)
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		return strings.TrimRight(b.String(), " ")
	}
	var out []string
	for i, cells := range rows {
		out = append(out, line(cells))
		if i == 0 {
			rule := make([]string, len(widths))
			for j, w := range widths {
				rule[j] = strings.Repeat("-", w)
			}
			out = append(out, line(rule))
		}
	}
	return strings.Join(out, "\n")
}

func (r *textRenderer) inlines(n ast.Node) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		r.inline(c, &b)
	}
	return b.String()
}

func (r *textRenderer) inline(n ast.Node, b *strings.Builder) {
	switch n := n.(type) {
	case *ast.Text:
		v := n.Segment.Value(r.source)
		if !n.IsRaw() {
			v = util.UnescapePunctuations(util.ResolveNumericReferences(util.ResolveEntityNames(v)))
		}
		b.Write(v)
		if n.SoftLineBreak() || n.HardLineBreak() {
			b.WriteByte('\n')
		}
	case *ast.String:
		b.Write(n.Value)
	case *ast.CodeSpan:
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			if t, ok := c.(*ast.Text); ok {
				b.Write(t.Segment.Value(r.source))
			}
		}
	case *ast.Link:
		info := r.links[n]
		label := r.inlines(n)
		ref := placeholder(true, info.index)
		if info.auto || label == info.dest || strings.TrimPrefix(info.dest, "mailto:") == label {
			b.WriteString(ref)
			return
		}
		b.WriteString(label + " (" + ref + ")")
	case *ast.Image:
		b.WriteString(r.inlines(n))
	case *ast.RawHTML:
	default:
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			r.inline(c, b)
		}
	}
}

func prefixLines(s, prefix, empty string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l == "" {
			lines[i] = empty
		} else {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

func indentRest(s, indent string) string {
	lines := strings.Split(s, "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i] != "" {
			lines[i] = indent + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}
