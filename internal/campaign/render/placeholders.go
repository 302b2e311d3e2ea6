package render

import (
	"io"
	"regexp"
	"strings"
	texttemplate "text/template"
)

// maxPlaceholderProblems bounds how often a body is run again to find the
// next misspelt placeholder.
const maxPlaceholderProblems = 10

var atNodeRE = regexp.MustCompile(`executing "[^"]*" at <(.*?)>: can't evaluate field `)

// checkPlaceholders parses and runs a body's placeholders for the sample
// lead as written, so that problems carry the lines a marketer sees. A
// misspelt field does not hide the next one: it is blanked out, keeping
// every offset, and the body is run again. Each message starts with
// prefix, such as "subject: ".
func checkPlaceholders(path, prefix, src string, fileLine func(int) int, sample view, actions []action, r Reporter) bool {
	ok := true
	patched := map[int]bool{}
	for range maxPlaceholderProblems {
		t, err := texttemplate.New("body").Option("missingkey=error").Parse(src)
		if err == nil {
			err = t.Execute(io.Discard, sample)
		}
		if err == nil {
			return ok
		}
		line, msg := templateError(err, "body")
		if a, unclosed := unclosedBlock(actions); unclosed && strings.HasSuffix(err.Error(), "unexpected EOF") {
			line, msg = a.line, a.text+" has no {{ end }}"
		}
		a, node, found := misspelt(err, actions, line)
		if found && patched[a.index] {
			// Blanking the field out broke its placeholder another way;
			// that is not a problem of the file.
			return false
		}
		r.Errorf(path, fileLine(max(line, 1)), "%s%s", prefix, msg)
		ok = false
		if !found {
			return false
		}
		patched[a.index] = true
		src = blankOut(src, a, node)
	}
	return ok
}

// misspelt finds the action of a "can't evaluate field" error: on the
// error's line, holding the field chain the error names.
func misspelt(err error, actions []action, line int) (action, string, bool) {
	m := atNodeRE.FindStringSubmatch(err.Error())
	if m == nil {
		return action{}, "", false
	}
	for _, a := range actions {
		if a.line <= line && line <= a.line+strings.Count(a.text, "\n") && strings.Contains(a.text, m[1]) {
			return a, m[1], true
		}
	}
	return action{}, "", false
}

// blankOut replaces node in action a of src with an empty text of the
// same length, so that every offset and line stays where it was.
func blankOut(src string, a action, node string) string {
	i := strings.Index(src[a.orig:a.orig+len(a.text)], node)
	if i < 0 {
		return src
	}
	at := a.orig + i
	return src[:at] + `""` + strings.Repeat(" ", len(node)-2) + src[at+len(node):]
}

// CompileLine compiles a one-line template such as a subject, after
// running its placeholders for the sample. Its problems are at line of
// path, each message starting with key, such as "subject: ".
func CompileLine(path, key string, line int, src string, sample Data, r Reporter) (*texttemplate.Template, bool) {
	if src == "" {
		return nil, false
	}
	if strings.ContainsAny(src, "\r\n") {
		r.Errorf(path, line, "%s must be one line", key)
		return nil, false
	}
	actions, _ := protectActions(src)
	if !checkPlaceholders(path, key+": ", src, func(int) int { return line }, sampleView(sample), actions, r) {
		return nil, false
	}
	t, err := texttemplate.New(key).Option("missingkey=error").Parse(src)
	if err != nil { // checkPlaceholders parsed it already
		r.Errorf(path, line, "%s: %v", key, err)
		return nil, false
	}
	return t, true
}
