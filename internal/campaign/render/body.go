package render

import (
	"bytes"
	htmltemplate "html/template"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
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

// Body is a step's Markdown compiled into templates, once per version.
type Body struct {
	html      *htmltemplate.Template
	text      *texttemplate.Template
	links     []string
	underline bool // the text part has headings whose underline is measured at render time
}

// Links are the absolute addresses the body links to, as written; links
// built from placeholders are left out.
func (b *Body) Links() []string { return b.links }

// CompileBody turns a step's Markdown into its HTML and text templates and
// checks its links, placeholders (run for the sample) and HTML. Lines in
// problems are counted from firstLine, the line of the file where the body
// starts. It goes through the stages the comment above describes, each a
// method of bodyCompiler: protect, parse, check, mark links, render,
// restore.
func CompileBody(path, src string, firstLine int, sample Data, r Reporter) (*Body, bool) {
	c := &bodyCompiler{path: path, src: src, first: firstLine, report: r, body: &Body{}}
	if !c.protect(sample) {
		return nil, false
	}
	c.parse()
	if !c.check() {
		return nil, false
	}
	c.dropSilentParagraphs()
	inLinks := c.markLinks()
	htmlSrc, textSrc, ok := c.render()
	if !ok {
		return nil, false
	}
	if htmlSrc, textSrc, ok = c.restore(htmlSrc, textSrc, inLinks); !ok {
		return nil, false
	}
	return c.templates(htmlSrc, textSrc)
}

// bodyCompiler is one body on its way from Markdown to templates.
type bodyCompiler struct {
	path   string
	src    string // as written
	first  int    // the line of the file where the body starts
	report Reporter
	body   *Body

	actions []action
	source  []byte   // src with each action swapped for its placeholder
	doc     ast.Node // the Markdown tree of source
	text    *textRenderer
	ok      bool // false once a problem was reported
	silent  []*ast.Paragraph
}

func (c *bodyCompiler) errorf(line int, format string, args ...any) {
	c.report.Errorf(c.path, line, format, args...)
	c.ok = false
}

// fileLine is the line of the file for a line of the body, from 1.
func (c *bodyCompiler) fileLine(bodyLine int) int { return c.first + bodyLine - 1 }

// protect swaps the actions for placeholders and runs them for the sample
// lead. A broken placeholder does not hide the other problems of the text:
// the Markdown is checked all the same, so only the reserved words stop
// here.
func (c *bodyCompiler) protect(sample Data) bool {
	if strings.Contains(c.src, placeholderPrefix) || strings.Contains(c.src, linkMarker) {
		c.report.Errorf(c.path, c.first, "the words %q and %q are reserved; please rephrase", placeholderPrefix, linkMarker)
		return false
	}
	var protected string
	c.actions, protected = protectActions(c.src)
	c.source = []byte(protected)
	c.ok = checkPlaceholders(c.path, "", c.src, c.fileLine, sampleView(sample), c.actions, c.report)
	return true
}

// lineAt is the line of the file that an offset in the protected source
// stands for.
func (c *bodyCompiler) lineAt(offset int) int {
	orig := offset
	for _, a := range c.actions {
		phEnd := a.at + len(placeholder(false, a.index))
		switch {
		case offset >= phEnd:
			orig = offset - phEnd + a.orig + len(a.text)
		case offset >= a.at:
			orig = a.orig
		}
	}
	return c.fileLine(1 + strings.Count(c.src[:min(orig, len(c.src))], "\n"))
}

func (c *bodyCompiler) parse() {
	c.doc = markdown.Parser().Parse(text.NewReader(c.source))
	c.text = &textRenderer{source: c.source, links: map[*ast.Link]linkInfo{}}
}

// check reports HTML and link addresses that are not full ones, notes the
// paragraphs that hold only silent actions, and turns autolinks into
// ordinary links, so that one kind of node carries every rewritable
// address. It reports whether the body is fit to render.
func (c *bodyCompiler) check() bool {
	htmlLines := map[int]bool{} // one complaint per line about HTML
	var autolinks []*ast.AutoLink
	_ = ast.Walk(c.doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.HTMLBlock:
			c.errorf(c.lineAt(n.Lines().At(0).Start), "HTML is not allowed in a mail's text: write Markdown instead")
		case *ast.RawHTML:
			if l := c.lineAt(n.Segments.At(0).Start); !htmlLines[l] {
				htmlLines[l] = true
				c.errorf(l, "HTML is not allowed in a mail's text: write Markdown instead (a < followed by a letter starts HTML; write \\< for the character)")
			}
			c.ok = false
		case *ast.Paragraph:
			if isSilent(n, c.source, c.actions) {
				c.silent = append(c.silent, n)
			}
		case *ast.AutoLink:
			autolinks = append(autolinks, n)
		case *ast.Link:
			c.checkLink(nodeOffset(n), string(n.Destination), false)
		case *ast.Image:
			c.checkLink(nodeOffset(n), string(n.Destination), true)
		}
		return ast.WalkContinue, nil
	})
	for _, a := range autolinks {
		c.linkAutolink(a)
	}
	return c.ok
}

func (c *bodyCompiler) checkLink(offset int, dest string, image bool) {
	if !checkLink(c.path, c.lineAt(offset), dest, image, c.body, c.report) {
		c.ok = false
	}
}

// linkAutolink checks an autolink's address and puts a link in its place.
func (c *bodyCompiler) linkAutolink(a *ast.AutoLink) {
	dest := string(a.URL(c.source))
	if a.AutoLinkType == ast.AutoLinkEmail && !strings.HasPrefix(strings.ToLower(dest), "mailto:") {
		dest = "mailto:" + dest
	}
	c.checkLink(nodeOffset(a), dest, false)
	l := ast.NewLink()
	l.Destination = []byte(dest)
	l.AppendChild(l, ast.NewString(a.Label(c.source)))
	a.Parent().ReplaceChild(a.Parent(), a, l)
	c.text.links[l] = linkInfo{auto: true}
}

// dropSilentParagraphs renders the content of a paragraph that holds only
// {{ if }}, {{ end }} and the like without a <p>, which would stay behind
// empty.
func (c *bodyCompiler) dropSilentParagraphs() {
	for _, p := range c.silent {
		tb := ast.NewTextBlock()
		for ch := p.FirstChild(); ch != nil; {
			next := ch.NextSibling()
			tb.AppendChild(tb, ch)
			ch = next
		}
		p.Parent().ReplaceChild(p.Parent(), p, tb)
	}
}

// markLinks puts the marker "nurturelinkN:" in front of every link's
// destination, and returns the actions that stand in link addresses,
// which the text part takes from the HTML's links instead.
func (c *bodyCompiler) markLinks() map[int]bool {
	n := 0
	inLinks := map[int]bool{}
	_ = ast.Walk(c.doc, func(node ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, isLink := node.(*ast.Link); isLink && entering {
			info := c.text.links[l]
			info.index = n
			info.dest = string(l.Destination)
			c.text.links[l] = info
			for _, m := range placeholderRE.FindAllStringSubmatch(info.dest, -1) {
				i, _ := strconv.Atoi(m[2])
				inLinks[i] = true
			}
			l.Destination = []byte(linkMarker + strconv.Itoa(n) + ":" + string(l.Destination))
			n++
		}
		return ast.WalkContinue, nil
	})
	return inLinks
}

// render writes the tree as HTML and as plain text, both still with the
// placeholders.
func (c *bodyCompiler) render() (htmlSrc, textSrc string, ok bool) {
	var hb bytes.Buffer
	if err := markdown.Renderer().Render(&hb, c.source, c.doc); err != nil {
		c.errorf(c.first, "cannot render the Markdown: %v", err)
		return "", "", false
	}
	textSrc = c.text.render(c.doc)
	c.body.underline = strings.Contains(textSrc, headingMarker)
	return hb.String(), textSrc, true
}

// restore puts the actions back into both parts. An action that Markdown
// dropped, or a silent one it doubled, is reported at its line.
func (c *bodyCompiler) restore(htmlSrc, textSrc string, inLinks map[int]bool) (string, string, bool) {
	htmlSrc, errLine := restore(htmlSrc, c.actions, nil)
	if errLine == 0 {
		textSrc, errLine = restore(textSrc, c.actions, inLinks)
	}
	if errLine != 0 {
		c.errorf(c.fileLine(errLine), "this placeholder is where Markdown drops text (such as an unused link definition); move it into the text")
		return "", "", false
	}
	return htmlSrc, textSrc, true
}

// templates parses the parts as html/template and text/template.
func (c *bodyCompiler) templates(htmlSrc, textSrc string) (*Body, bool) {
	var err error
	if c.body.html, err = htmltemplate.New(c.path).Option("missingkey=error").Parse(htmlSrc); err != nil {
		c.errorf(c.first, "placeholders do not fit the mail's HTML: %v", err)
		return nil, false
	}
	if c.body.text, err = texttemplate.New(c.path).Option("missingkey=error").Parse(textSrc); err != nil {
		c.errorf(c.first, "placeholders do not fit the mail's text: %v", err)
		return nil, false
	}
	return c.body, true
}

// Markdown renders Markdown that holds no placeholders, such as a signup
// form's introduction, to HTML.
func Markdown(src string) (htmltemplate.HTML, error) {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(src), &b); err != nil {
		return "", err
	}
	return htmltemplate.HTML(b.String()), nil
}
