package problem

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestProblem_StringReadsPathLineMessage(t *testing.T) {
	for _, tt := range []struct {
		p    Problem
		want string
	}{
		{Problem{Path: "a.yaml", Line: 4, Msg: "bad"}, "a.yaml:4: bad"},
		{Problem{Path: "a.yaml", Line: 0, Msg: "whole file"}, "a.yaml:1: whole file"},
		{Problem{Path: "a.yaml", Line: 2, Msg: "odd", Severity: Warning}, "a.yaml:2: warning: odd"},
	} {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestHasErrors_WarningsAloneAreNone(t *testing.T) {
	warn := Problem{Msg: "w", Severity: Warning}
	if HasErrors(nil) || HasErrors([]Problem{warn}) {
		t.Error("HasErrors is true without an error")
	}
	if !HasErrors([]Problem{warn, {Msg: "e"}}) {
		t.Error("HasErrors is false with an error")
	}
}

func TestSuggest_OnlyNamesATypo(t *testing.T) {
	known := []string{"points", "cap", "decay", "temperature"}
	for _, tt := range []struct{ word, want string }{
		{"ponits", "points"}, // two neighbours swapped
		{"POINTS", "points"}, // case ignored
		{"cp", "cap"},        // one deleted
		{"decays", "decay"},  // one inserted
		{"tempreature", "temperature"},
		{"colour", ""}, // too far from all
		{"", ""},
	} {
		if got := Suggest(tt.word, known); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
	if got := Suggest("x", nil); got != "" {
		t.Errorf("Suggest with no candidates = %q", got)
	}
}

func TestKind_NamesWhatANodeIs(t *testing.T) {
	for _, tt := range []struct {
		n    *yaml.Node
		want string
	}{
		{&yaml.Node{Kind: yaml.MappingNode}, "a set of keys"},
		{&yaml.Node{Kind: yaml.SequenceNode}, "a list"},
		{&yaml.Node{Kind: yaml.ScalarNode, Value: "five"}, `"five"`},
		{&yaml.Node{Kind: yaml.AliasNode}, "this"},
	} {
		if got := Kind(tt.n); got != tt.want {
			t.Errorf("Kind(%v) = %q, want %q", tt.n.Kind, got, tt.want)
		}
	}
}
