package scoring

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/nurture/nurture/internal/problem"
)

// Severity tells an error, which makes the file invalid, from a warning,
// which is only reported.
type Severity = problem.Severity

const (
	SeverityError   = problem.Error
	SeverityWarning = problem.Warning
)

// Problem is one thing wrong in scoring.yaml, at a line of it; a problem
// with the whole file is at line 1. It reads "path:line: message".
type Problem = problem.Problem

// HasErrors reports whether any of the problems is an error.
func HasErrors(ps []Problem) bool { return problem.HasErrors(ps) }

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
	if s := problem.Suggest(key, known); s != "" {
		ps.errorf(line, "%sunknown key %q: did you mean %q?", where, key, s)
		return
	}
	ps.errorf(line, "%sunknown key %q: use %s", where, key, strings.Join(known, ", "))
}
