package render

import (
	"strings"
	"testing"
	"text/template/parse"
)

func TestActionEnd_SkipsWhatTextTemplateSkips(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		src  string
		at   int
		want string // src[at:end]
	}{
		{"a plain action", "{{ .Lead.FirstName }}, hi", 0, "{{ .Lead.FirstName }}"},
		{"an action further in", "Hi {{ .X }}{{ .Y }}", 3, "{{ .X }}"},
		{"trim markers", "{{- .X -}} rest", 0, "{{- .X -}}"},
		{"}} inside a string", `{{ or .X "}}" }} rest`, 0, `{{ or .X "}}" }}`},
		{"an escaped quote in a string", `{{ or .X "a\"}}" }} rest`, 0, `{{ or .X "a\"}}" }}`},
		{"an escaped backslash ends the string", `{{ or .X "a\\" }} rest`, 0, `{{ or .X "a\\" }}`},
		{"a character constant", `{{ print '}' }} rest`, 0, `{{ print '}' }}`},
		{"an escaped character constant", `{{ print '\'' }} rest`, 0, `{{ print '\'' }}`},
		{"a raw string", "{{ print `}}` }} rest", 0, "{{ print `}}` }}"},
		{"a comment", "{{/* }} */}} rest", 0, "{{/* }} */}}"},
		{"a comment with trim markers", "{{- /* }} */ -}} rest", 0, "{{- /* }} */ -}}"},
		{"never closed", "{{ .X and more", 0, "{{ .X and more"},
		{"a string never closed", `{{ or .X "}} rest`, 0, `{{ or .X "}} rest`},
		{"a backslash at the very end", `{{ or .X "\`, 0, `{{ or .X "\`},
		{"a raw string never closed", "{{ print `}} rest", 0, "{{ print `}} rest"},
		{"a comment never closed", "{{/* }} rest", 0, "{{/* }} rest"},
		{"only the braces", "{{", 0, "{{"},
		{"a single brace does not close", "{{ .X } rest }}", 0, "{{ .X } rest }}"},
	} {
		if got := tt.src[tt.at:actionEnd(tt.src, tt.at)]; got != tt.want {
			t.Errorf("%s: actionEnd(%q, %d) ends after %q, want %q", tt.name, tt.src, tt.at, got, tt.want)
		}
	}
}

// TestProtectActions_AgreesWithTextTemplate checks the scan against
// text/template/parse on bodies that parse: what protectActions leaves
// outside the actions is exactly the text parse finds, and each action it
// cuts out parses on its own.
func TestProtectActions_AgreesWithTextTemplate(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"Hi {{ .Lead.FirstName }},\n\nsee {{ or .X \"}}\" }} and {{ print `{{` }}.",
		"{{/* a comment with }} in it */}}Text {{ printf \"%q\" '}' }}",
		"{{ if eq .A \"x\" }}\nA\n{{ else }}\nB\n{{ end }}\n",
		"[link]({{ .BaseURL }}/x?y={{ .Lead.Email }}) {{ $x := 1 }}{{ $x }}",
		"no actions at all, only { and } and }}",
	} {
		actions, protected := protectActions(src)
		outside := placeholderRE.ReplaceAllString(protected, "")
		trees, err := parse.Parse("t", src, "", "", map[string]any{"eq": true, "or": true, "print": true, "printf": true})
		if err != nil {
			t.Fatalf("%q does not parse: %v", src, err)
		}
		var text strings.Builder
		var walk func(parse.Node)
		walk = func(n parse.Node) {
			switch n := n.(type) {
			case *parse.ListNode:
				for _, c := range n.Nodes {
					walk(c)
				}
			case *parse.TextNode:
				text.Write(n.Text)
			case *parse.IfNode:
				walk(n.List)
				if n.ElseList != nil {
					walk(n.ElseList)
				}
			}
		}
		walk(trees["t"].Root)
		if outside != text.String() {
			t.Errorf("%q: outside the actions %q, text/template finds %q", src, outside, text.String())
		}
		for _, a := range actions {
			if a.silent {
				continue // {{ if }} or {{ end }} alone is no template
			}
			if _, err := parse.Parse("a", a.text, "", "", map[string]any{"eq": true, "or": true, "print": true, "printf": true}); err != nil && !strings.Contains(err.Error(), "undefined variable") {
				t.Errorf("%q: action %q does not parse on its own: %v", src, a.text, err)
			}
		}
	}
}

func TestProtectActions_CountsLinesAndOffsets(t *testing.T) {
	t.Parallel()
	src := "one\n{{ .A }} two\n{{ if .B\n}}three{{ end }}"
	actions, protected := protectActions(src)
	if len(actions) != 3 {
		t.Fatalf("%d actions, want 3", len(actions))
	}
	for i, want := range []struct {
		text   string
		line   int
		silent bool
	}{{"{{ .A }}", 2, false}, {"{{ if .B\n}}", 3, true}, {"{{ end }}", 4, true}} {
		a := actions[i]
		if a.text != want.text || a.line != want.line || a.silent != want.silent || a.index != i {
			t.Errorf("action %d = %+v, want %+v", i, a, want)
		}
		if src[a.orig:a.orig+len(a.text)] != a.text {
			t.Errorf("action %d: orig %d does not point at it", i, a.orig)
		}
		if !strings.HasPrefix(protected[a.at:], placeholder(false, i)) {
			t.Errorf("action %d: at %d does not point at its placeholder", i, a.at)
		}
	}
}
