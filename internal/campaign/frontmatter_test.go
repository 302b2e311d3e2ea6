package campaign

import (
	"testing"

	"gopkg.in/yaml.v3"
)

// The guide promises that subject, preheader, if and name (and a form's
// title, consent, thank_you and button) need no quotes: quoteText reads
// them as written, and leaves every other line to YAML.
func TestQuoteText_ReadsTextKeysAsWrittenAndLeavesTheRestToYAML(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, line, want string
	}{
		// Lines quoteText leaves alone.
		{"plain text", "subject: Hello there", "subject: Hello there"},
		{"not a text key", "delay: 2d", "delay: 2d"},
		{"not a text key that YAML cannot read", "layout: {{ x }}", "layout: {{ x }}"},
		{"no value on the line", "name:", "name:"},
		{"an indented line", "  event: webinar_attended", "  event: webinar_attended"},
		{"a comment line", "# subject: {{ .Lead.FirstName }}", "# subject: {{ .Lead.FirstName }}"},
		{"a literal block", "consent: |", "consent: |"},
		{"a folded block", "consent: >-", "consent: >-"},
		{"quoted already", `subject: "Hello: there"`, `subject: "Hello: there"`},
		{"quoted already, with a comment", `subject: 'Hello' # greeting`, `subject: 'Hello' # greeting`},
		{"a # without a space before it", "subject: Item#1 of 5", "subject: Item#1 of 5"},
		{"an apostrophe", "subject: It's here", "subject: It's here"},

		// Lines it quotes, so that YAML reads the text as written.
		{"a placeholder first", "subject: {{ .Lead.FirstName }}, hi", "subject: '{{ .Lead.FirstName }}, hi'"},
		{"a colon and a space", "title: Free e-book: The Playbook", "title: 'Free e-book: The Playbook'"},
		{"a quoted word first", `if: "webinar_attended" in events`, `if: '"webinar_attended" in events'`},
		{"a space and a #", "subject: Tip # 3 of 5", "subject: 'Tip # 3 of 5'"},
		{"single quotes inside", "subject: {{ or .Lead.FirstName 'there' }}", "subject: '{{ or .Lead.FirstName ''there'' }}'"},
		{"a number", "name: 2026", "name: '2026'"},
		{"true", "if: true", "if: 'true'"},
		{"a list", "button: [Go]", "button: '[Go]'"},
		{"trailing blanks", "preheader: Short: really  \t", "preheader: 'Short: really'"},
		{"a tab after the colon", "thank_you:\tSee you: soon", "thank_you: 'See you: soon'"},
	} {
		got := quoteText([]string{tt.line})
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s: quoteText(%q) = %q, want %q", tt.name, tt.line, got, tt.want)
			continue
		}
		if got[0] == tt.line {
			continue
		}
		// What YAML reads from the quoted line is the text as written.
		var v map[string]string
		if err := yaml.Unmarshal([]byte(got[0]), &v); err != nil {
			t.Errorf("%s: %q is not YAML: %v", tt.name, got[0], err)
			continue
		}
		m := textLineRE.FindStringSubmatch(tt.line)
		if v[m[1]] != m[2] {
			t.Errorf("%s: YAML reads %q, want %q", tt.name, v[m[1]], m[2])
		}
	}
}

func TestQuoteText_KeepsEveryLineInItsPlace(t *testing.T) {
	t.Parallel()
	in := []string{"subject: {{ .Lead.FirstName }}: hi", "delay: 2d", "exit:", "  event: demo_booked", "if: score > 2 # high"}
	out := quoteText(in)
	want := []string{"subject: '{{ .Lead.FirstName }}: hi'", "delay: 2d", "exit:", "  event: demo_booked", "if: 'score > 2 # high'"}
	if len(out) != len(want) {
		t.Fatalf("%d lines, want %d", len(out), len(want))
	}
	for i := range want {
		if out[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i+1, out[i], want[i])
		}
	}
	if in[0] != "subject: {{ .Lead.FirstName }}: hi" {
		t.Error("quoteText changed its input")
	}
}
