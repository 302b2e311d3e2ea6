package problem

import (
	"fmt"
	"slices"
	"strings"
)

// Severity tells an error, which makes a file invalid, from a warning,
// which is only reported.
type Severity int

const (
	Error Severity = iota
	Warning
)

// Problem is one thing wrong in a file, at a line of it; a problem with the
// whole file is at line 1.
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
	if p.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// HasErrors reports whether any of the problems is an error.
func HasErrors(ps []Problem) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Severity == Error })
}
