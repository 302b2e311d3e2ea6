package optin

import (
	"strings"
	"unicode/utf8"
)

// textWidth is where the confirmation mail's plain text breaks its lines,
// as the sequence mails are written.
const textWidth = 72

// wrap breaks every line of text longer than width at spaces, so that the
// plain text reads evenly whatever the placeholders filled in: the
// template writes a paragraph on one line, and wrap fills it. It never joins
// lines, so a line break the template makes (a signature, a list) stays. A
// word longer than width, such as a link, gets a line of its own and is
// never broken. A broken line's continuation keeps its indent, and a list
// item's ("- ") lines up under its text.
func wrap(text string, width int) string {
	var b strings.Builder
	b.Grow(len(text) + len(text)/16) // a line break and an indent now and then
	first := true
	for line := range strings.SplitSeq(text, "\n") {
		if !first {
			b.WriteByte('\n')
		}
		first = false
		wrapLine(&b, strings.TrimRight(line, " \t"), width)
	}
	return b.String()
}

func wrapLine(b *strings.Builder, line string, width int) {
	if utf8.RuneCountInString(line) <= width {
		b.WriteString(line)
		return
	}
	body := strings.TrimLeft(line, " \t")
	indent := line[:len(line)-len(body)]
	hang := indent
	if strings.HasPrefix(body, "- ") || strings.HasPrefix(body, "* ") {
		hang += "  "
	}
	b.WriteString(indent)
	col := utf8.RuneCountInString(indent)
	first := true
	for word := range strings.FieldsSeq(body) {
		n := utf8.RuneCountInString(word)
		switch {
		case first:
			first = false
		case col+1+n > width:
			b.WriteByte('\n')
			b.WriteString(hang)
			col = utf8.RuneCountInString(hang)
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
	}
}
