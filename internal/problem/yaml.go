package problem

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
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

// Kind names what a YAML node is, for a message that says it is not what
// was wanted: "a set of keys", "a list", or a scalar's value in quotes.
func Kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a set of keys"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "this"
}
