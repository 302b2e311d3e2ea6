package render

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
)

// action is one {{ … }} of a body as written.
type action struct {
	text   string
	line   int // line of the body, from 1
	silent bool
	index  int
	orig   int // offset in the body
	at     int // offset in the protected source
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
// skipping quoted strings and comments the way text/template's lexer does;
// an action that is never closed runs to the end of src. The scan is our
// own because text/template/parse cannot serve here: its tree gives where
// a node starts but not where its action's }} ends, and it stops at the
// first mistake, while a body whose placeholder is broken must still be
// protected so that its Markdown is checked as well.
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
