package scoring

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/nurture/nurture/internal/problem"
)

var topKeys = []string{"mql", "points", "caps", "fit", "decay", "bands", "handoff"}

// Parse reads scoring.yaml. It returns the rules and every problem found,
// warnings included; the rules are nil when any problem is an error. path
// is what problems name.
func Parse(path string, data []byte) (*Rules, []problem.Problem) {
	ps := &problems{path: path}
	r := parse(path, data, ps)
	list := ps.sorted()
	if problem.HasErrors(list) {
		return nil, list
	}
	r.Warnings = list
	return r, list
}

func parse(path string, data []byte, ps *problems) *Rules {
	r := &Rules{Path: path, Bands: DefaultBands, Caps: map[string]Cap{}, Points: Points{Events: map[string]EventPoints{}}}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	lines := quoteConditions(strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n"))
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(strings.Join(lines, "\n")), &root); err != nil {
		line, msg := yamlError(err)
		ps.errorf(line, "not valid YAML: %s", msg)
		return r
	}
	if len(root.Content) == 0 {
		ps.errorf(1, "the file is empty: give at least points, and mql to hand leads to sales")
		return r
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		ps.errorf(m.Line, "the file must be keys such as mql:, points: and fit:, not %s", problem.Kind(m))
		return r
	}
	fields := mapping(m, "", ps)
	for _, f := range fields {
		switch f.key {
		case "mql":
			r.MQL, _ = compileExpr(f.val, "mql", nil, ps)
		case "points":
			r.Points = parsePoints(f, ps)
		case "fit":
			r.Fit = parseFit(f, ps)
		case "decay":
			r.HalfLife = parseDecay(f, ps)
		case "bands":
			r.Bands = parseBands(f, ps)
		case "handoff":
			r.Handoff = parseHandoff(f, ps)
		case "caps":
		default:
			ps.unknownKey(f.line, "", f.key, topKeys)
		}
	}
	for _, f := range fields {
		if f.key == "caps" {
			r.Caps = parseCaps(f, r.Points, ps)
		}
	}
	if _, capped := r.Caps["urls"]; len(r.Points.URLs) > 0 && !capped {
		ps.warnf(r.Points.URLs[0].Line, "points.urls has no cap: a page view earns these points every time; add one, such as caps: urls: 40")
	}
	if r.Handoff != nil && r.MQL == nil && !hasKey(fields, "mql") {
		ps.errorf(r.Handoff.Line, "handoff needs an mql rule: without one no lead becomes an MQL to hand off")
	}
	return r
}

// field is one key of a mapping with its value and the key's line.
type field struct {
	key  string
	line int
	val  *yaml.Node
}

// mapping returns the keys of a mapping node in order, reporting duplicates.
// where is a prefix for messages, such as "points: ".
func mapping(n *yaml.Node, where string, ps *problems) []field {
	var out []field
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if first, dup := seen[k.Value]; dup {
			ps.errorf(k.Line, "%s%s is set twice (first on line %d)", where, k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, field{key: k.Value, line: k.Line, val: v})
	}
	return out
}

func hasKey(fs []field, key string) bool {
	for _, f := range fs {
		if f.key == key {
			return true
		}
	}
	return false
}

// isMap reports whether the value of f is a mapping, and reports it at the
// key's line when not. key names f in the message.
func isMap(f field, key, example string, ps *problems) bool {
	if f.val.Kind == yaml.MappingNode {
		return true
	}
	ps.errorf(f.line, "%s must be keys and values, such as %s, not %s", key, example, problem.Kind(f.val))
	return false
}

// isList reports whether n is a list with at least one item, and reports
// msg at its line when not.
func isList(n *yaml.Node, msg string, ps *problems) bool {
	if n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
		return true
	}
	ps.errorf(n.Line, "%s", msg)
	return false
}

// mapItems calls fn for each item of list that is a mapping, with its
// index, its name in messages (name and its number from 1, such as "fit
// rule 2") and its fields. An item that is not a mapping is reported with
// example.
func mapItems(list *yaml.Node, name, example string, ps *problems, fn func(i int, item *yaml.Node, where string, fields []field)) {
	for i, item := range list.Content {
		where := name + " " + strconv.Itoa(i+1)
		if !isMap(field{line: item.Line, val: item}, where, example, ps) {
			continue
		}
		fn(i, item, where, mapping(item, where+": ", ps))
	}
}

// whole reads a whole number, such as the points of a signal.
func whole(n *yaml.Node, key string, ps *problems) (int, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if v, err := strconv.Atoi(n.Value); err == nil {
			return v, true
		}
	}
	what := "this"
	if n.Kind == yaml.ScalarNode {
		what = strconv.Quote(n.Value)
	}
	ps.errorf(n.Line, "%s must be a whole number, such as 5 or -10, not %s", key, what)
	return 0, false
}

// yamlError returns the line a YAML error is on and a message with a hint
// at the usual cause.
func yamlError(err error) (int, string) {
	line, msg := problem.YAML(err)
	switch {
	case strings.Contains(msg, "mapping values are not allowed"):
		msg += problem.HintColon
	case strings.Contains(msg, "tab character") || strings.Contains(msg, "found character that cannot start any token"):
		msg += problem.HintTabs
	}
	return max(line, 1), msg
}

var conditionLine = regexp.MustCompile(`^(\s*(?:-\s+)?(?:if|mql):[ \t]+)((["']).*?)[ \t]*$`)

// quoteConditions puts a condition that starts with a quoted word, such as
// "webinar" in events, in single quotes, since YAML would read the quoted
// word as the whole value and fail on the rest. Lines keep their numbers.
func quoteConditions(lines []string) []string {
	for i, l := range lines {
		m := conditionLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var v any
		if err := yaml.Unmarshal([]byte("k: "+m[2]), &v); err == nil {
			continue // a quoted value YAML reads as written
		}
		lines[i] = m[1] + "'" + strings.ReplaceAll(m[2], "'", "''") + "'"
	}
	return lines
}

// parseDuration reads a half-life such as 30d, 2w, 12h or 90m.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	units := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	if len(s) < 2 || units[s[len(s)-1]] == 0 {
		return 0, fmt.Errorf("%q is not a duration: write a number and m, h, d or w, such as 30d", s)
	}
	n, err := strconv.ParseFloat(s[:len(s)-1], 64)
	if err != nil || n <= 0 || n > 3650*24 {
		return 0, fmt.Errorf("%q is not a duration: write a positive number and m, h, d or w, such as 30d", s)
	}
	return time.Duration(n * float64(units[s[len(s)-1]])), nil
}
