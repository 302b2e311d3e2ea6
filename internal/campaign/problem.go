package campaign

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/nurture/nurture/internal/problem"
)

// Severity tells an error, which makes a Set invalid, from a warning, which
// is only reported.
type Severity = problem.Severity

const (
	SeverityError   = problem.Error
	SeverityWarning = problem.Warning
)

// Problem is one thing wrong in a campaign file, at a line of it. A
// problem with the whole file, such as a missing one or its name, is at
// line 1, so every problem reads path:line: message.
type Problem = problem.Problem

// HasErrors reports whether any of the problems is an error.
func HasErrors(ps []Problem) bool { return problem.HasErrors(ps) }

// InvalidError is returned when the campaign files have errors. It lists
// every problem, warnings included.
type InvalidError struct {
	Problems []Problem
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	n, _ := Count(e.Problems)
	fmt.Fprintf(&b, "%d %s in the campaign files:", n, plural(n, "error", "errors"))
	for _, p := range e.Problems {
		b.WriteString("\n")
		b.WriteString(p.String())
	}
	return b.String()
}

// Count returns how many of the problems are errors and how many are
// warnings.
func Count(ps []Problem) (errs, warns int) {
	for _, p := range ps {
		if p.Severity == SeverityError {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// problems collects what is wrong while loading.
type problems []Problem

func (ps *problems) errorf(path string, line int, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// Errorf is errorf for the packages that report into the list, such as
// render.
func (ps *problems) Errorf(path string, line int, format string, args ...any) {
	ps.errorf(path, line, format, args...)
}

func (ps *problems) warnf(path string, line int, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Line: line, Msg: fmt.Sprintf(format, args...), Severity: SeverityWarning})
}

func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line))
	})
}

// readError is what went wrong reading a file, without the path that the
// problem names already: "permission denied".
func readError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
