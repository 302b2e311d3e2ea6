package scoring

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/nurture/nurture/internal/problem"
)

// problems collects what is wrong while parsing one file.
type problems struct {
	path string
	list []problem.Problem
}

func (ps *problems) errorf(line int, format string, args ...any) {
	ps.list = append(ps.list, problem.Problem{Path: ps.path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (ps *problems) warnf(line int, format string, args ...any) {
	ps.list = append(ps.list, problem.Problem{Path: ps.path, Line: line, Msg: fmt.Sprintf(format, args...), Severity: problem.Warning})
}

func (ps *problems) sorted() []problem.Problem {
	slices.SortStableFunc(ps.list, func(a, b problem.Problem) int { return cmp.Compare(a.Line, b.Line) })
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
