package campaign

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nurture/nurture/internal/problem"
)

// document is a campaign file split into its front matter and its body.
type document struct {
	path     string
	fields   []field
	body     string
	bodyLine int // line of the file where the body starts
}

// field is one key of the front matter with the line it is on.
type field struct {
	key  string
	line int
	node *yaml.Node
}

// splitDocument reads the front matter between the --- lines at the top of
// a file. It reports false when the front matter is missing or unreadable.
func splitDocument(path string, data []byte, ps *problems) (*document, bool) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	doc := &document{path: path}
	if strings.TrimRight(lines[0], " \t") != "---" {
		ps.errorf(path, 1, "missing front matter: the file must start with a line ---, the settings, and another line ---")
		return doc, false
	}
	end := -1
	for i := 1; i < len(lines); i++ {
		if l := strings.TrimRight(lines[i], " \t"); l == "---" || l == "..." {
			end = i
			break
		}
	}
	if end < 0 {
		ps.errorf(path, 1, "front matter is not closed: add a line --- after the settings")
		return doc, false
	}
	doc.body = strings.Join(lines[end+1:], "\n")
	doc.bodyLine = end + 2

	var root yaml.Node
	fm := quoteText(lines[1:end])
	if err := yaml.Unmarshal([]byte(strings.Join(fm, "\n")), &root); err != nil {
		line, msg := yamlError(err, fm)
		ps.errorf(path, line+1, "front matter is not valid YAML: %s", msg)
		return doc, false
	}
	if len(root.Content) == 0 {
		return doc, true
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		ps.errorf(path, m.Line+1, "front matter must be lines of key: value")
		return doc, false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		f := field{key: k.Value, line: k.Line + 1, node: v}
		if first, dup := seen[f.key]; dup {
			ps.errorf(path, f.line, "%s is set twice (first on line %d)", f.key, first)
			continue
		}
		seen[f.key] = f.line
		doc.fields = append(doc.fields, f)
	}
	return doc, true
}

// textKeys hold text for people or conditions, never YAML structure.
var textKeys = []string{"name", "subject", "preheader", "if", "title", "consent", "thank_you", "button"}

var textLineRE = regexp.MustCompile(`^(\w+):[ \t]+(\S.*?)[ \t]*$`)

// quoteText puts quotes around the value of a text key when YAML would not
// read it as the text it looks like: a subject that starts with {{, has a
// colon in it, starts with a quoted word or has " #" in it, or a condition
// such as "webinar_attended" in events. Marketers need not learn YAML's quoting
// rules for these. Lines keep their numbers.
func quoteText(lines []string) []string {
	out := slices.Clone(lines)
	for i, l := range lines {
		m := textLineRE.FindStringSubmatch(l)
		if m == nil || !slices.Contains(textKeys, m[1]) || strings.HasPrefix(m[2], "|") || strings.HasPrefix(m[2], ">") {
			continue
		}
		var v map[string]any
		if err := yaml.Unmarshal([]byte(l), &v); err == nil {
			_, isText := v[m[1]].(string)
			quoted := strings.HasPrefix(m[2], `"`) || strings.HasPrefix(m[2], "'")
			// " #" would start a YAML comment and cut the text short.
			if isText && (quoted || !strings.Contains(m[2], " #")) {
				continue
			}
		}
		out[i] = m[1] + ": '" + strings.ReplaceAll(m[2], "'", "''") + "'"
	}
	return out
}

var flowValueRE = regexp.MustCompile(`^\s*[\w-]+:\s*[{\[]`)

// yamlError returns the front-matter line a YAML error is on and a message
// with a hint at the usual cause.
func yamlError(err error, lines []string) (int, string) {
	line, msg := problem.YAML(err)
	switch {
	case strings.Contains(msg, "mapping values are not allowed"):
		msg += problem.HintColon
	case strings.Contains(msg, "tab character"):
		msg += problem.HintTabs
	case line == 0 || strings.Contains(msg, "did not find expected"):
		for i, l := range lines {
			if flowValueRE.MatchString(l) {
				return i + 1, msg + "; a value that starts with { or [ is read as YAML structure: put the whole value in quotes"
			}
		}
	}
	return max(line, 1), msg
}

// checkKeys reports keys that are not among known, suggesting the one meant.
func (d *document) checkKeys(known []string, ps *problems) {
	for _, f := range d.fields {
		if slices.Contains(known, f.key) {
			continue
		}
		if s := problem.Suggest(f.key, known); s != "" {
			ps.errorf(d.path, f.line, "unknown key %q: did you mean %q?", f.key, s)
		} else {
			ps.errorf(d.path, f.line, "unknown key %q: use one of %s", f.key, strings.Join(known, ", "))
		}
	}
}

// get returns the field named key, if it is set.
func (d *document) get(key string) (field, bool) {
	for _, f := range d.fields {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// text returns a scalar as text; numbers and true/false are read as written.
func (f field) text(path string, ps *problems) (string, bool) {
	if f.node.Kind != yaml.ScalarNode {
		ps.errorf(path, f.line, "%s must be text, not %s", f.key, problem.Kind(f.node))
		return "", false
	}
	if f.node.Tag == "!!null" {
		return "", true
	}
	return f.node.Value, true
}

func (f field) boolean(path string, ps *problems) (bool, bool) {
	if f.node.Kind != yaml.ScalarNode || f.node.Tag != "!!bool" {
		ps.errorf(path, f.line, "%s must be true or false", f.key)
		return false, false
	}
	v, _ := strconv.ParseBool(f.node.Value)
	return v, true
}

// list accepts one text or a list of texts, such as [newsletter, webinar].
func (f field) list(path string, ps *problems) ([]string, bool) {
	switch f.node.Kind {
	case yaml.ScalarNode:
		if f.node.Tag == "!!null" || f.node.Value == "" {
			ps.errorf(path, f.line, "%s is empty", f.key)
			return nil, false
		}
		return []string{f.node.Value}, true
	case yaml.SequenceNode:
		var out []string
		for _, n := range f.node.Content {
			if n.Kind != yaml.ScalarNode || n.Value == "" {
				ps.errorf(path, n.Line+1, "%s must be a list of texts, such as [a, b]", f.key)
				return nil, false
			}
			out = append(out, n.Value)
		}
		if len(out) == 0 {
			ps.errorf(path, f.line, "%s is an empty list", f.key)
			return nil, false
		}
		return out, true
	}
	ps.errorf(path, f.line, "%s must be a text or a list of texts", f.key)
	return nil, false
}
