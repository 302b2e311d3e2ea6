package scoring

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity tells an error, which makes the file invalid, from a warning,
// which is only reported.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

// Problem is one thing wrong in scoring.yaml, at a line of it; a problem
// with the whole file is at line 1. It has the shape of campaign.Problem.
type Problem struct {
	Path     string
	Line     int
	Msg      string
	Severity Severity
}

// String formats the problem as "path:line: message", with "warning: "
// before the message of a warning.
func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", p.Path, max(p.Line, 1))
	if p.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// HasErrors reports whether any of the problems is an error.
func HasErrors(ps []Problem) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Severity == SeverityError })
}

// problems collects what is wrong while parsing one file.
type problems struct {
	path string
	list []Problem
}

func (ps *problems) errorf(line int, format string, args ...any) {
	ps.list = append(ps.list, Problem{Path: ps.path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (ps *problems) warnf(line int, format string, args ...any) {
	ps.list = append(ps.list, Problem{Path: ps.path, Line: line, Msg: fmt.Sprintf(format, args...), Severity: SeverityWarning})
}

func (ps *problems) sorted() []Problem {
	slices.SortStableFunc(ps.list, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	return ps.list
}

// unknownKey reports a key that is not among known, suggesting the one
// meant.
func (ps *problems) unknownKey(line int, where, key string, known []string) {
	if s := suggest(key, known); s != "" {
		ps.errorf(line, "%sunknown key %q: did you mean %q?", where, key, s)
		return
	}
	ps.errorf(line, "%sunknown key %q: use %s", where, key, strings.Join(known, ", "))
}

// suggest returns the candidate closest to word when it is close enough to
// be a typo of it, or "".
func suggest(word string, candidates []string) string {
	word = strings.ToLower(word)
	best, bestDist := "", -1
	for _, c := range candidates {
		if d := editDistance(word, strings.ToLower(c)); bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" || bestDist > max(1, (len(best)+1)/3) {
		return ""
	}
	return best
}

// editDistance counts the insertions, deletions, substitutions and swaps of
// neighbours that turn a into b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
