package problem

import "testing"

func TestSuggest_GuessesOnlyWhatIsCloseEnough(t *testing.T) {
	t.Parallel()
	keys := []string{"subject", "delay", "if", "layout", "preheader", "send_window"}
	for _, tt := range []struct{ word, want string }{
		{"subjct", "subject"},
		{"Subject", "subject"},
		{"dealy", "delay"},
		{"layuot", "layout"},
		{"sendwindow", "send_window"},
		{"preheadr", "preheader"},
		{"iff", "if"},
		{"colour", ""},
		{"xyz", ""},
	} {
		if got := Suggest(tt.word, keys); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
	if got := Suggest("anything", nil); got != "" {
		t.Errorf("Suggest without candidates = %q", got)
	}
}

func TestDistance_CountsEditsAndSwaps(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"abc", "abc", 0},
		{"abc", "abd", 1},
		{"abc", "acb", 1},
		{"abc", "ab", 1},
		{"kitten", "sitting", 3},
		{"straße", "strasse", 2},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
