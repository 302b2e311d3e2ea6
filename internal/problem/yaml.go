package problem

import (
	"regexp"
	"strconv"
	"strings"
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Hints that follow a YAML parser's message where it names one of the
// usual causes.
const (
	HintColon = "; check the indentation, and put quotes around a value with a colon and a space in it"
	HintTabs  = "; indent with spaces, not tabs"
)

// YAML splits a YAML parser's error into the line it names, 0 when it
// names none, and its message without the "yaml: " before it.
func YAML(err error) (int, string) {
	line, msg := 0, strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	return line, msg
}
