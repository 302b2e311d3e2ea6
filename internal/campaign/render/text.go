package render

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/util"
)

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
