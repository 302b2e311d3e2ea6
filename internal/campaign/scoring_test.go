package campaign

import (
	"errors"
	"path/filepath"
	"testing"
)

const testScoring = "mql: score >= 60\npoints:\n  open: 1\n  click: 5\n"

func TestLoad_ScoringYAMLIsPartOfTheSet(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"welcome/sequence.md": testSequence, "welcome/01-hi.md": "---\nsubject: Hi\ndelay: 0\n---\nHi.", "scoring.yaml": testScoring})
	set, ps := Load(dir, testLayouts)
	if set == nil || set.Scoring == nil {
		t.Fatalf("Load = %v, %v", set, ps)
	}
	if set.Scoring.Points.Click != 5 || set.Scoring.Path != filepath.Join(dir, "scoring.yaml") {
		t.Errorf("rules = %+v", set.Scoring)
	}
	empty := writeFiles(t, map[string]string{"welcome/sequence.md": testSequence})
	if set, _ := Load(empty, testLayouts); set == nil || set.Scoring != nil {
		t.Errorf("a folder without scoring.yaml: %+v", set)
	}
}

func TestCheck_ScoringProblemsArePathLine(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"scoring.yaml": "mql: scroe >= 60\npoints:\n  open: one\n"})
	set, ps := Check(dir, testLayouts)
	if set != nil || len(ps) != 2 {
		t.Fatalf("Check = %v, %v", set, ps)
	}
	p := filepath.Join(dir, "scoring.yaml")
	if ps[0].String() != p+":1: mql: unknown name scroe; did you mean score? (column 1)" ||
		ps[1].String() != p+`:3: points.open must be a whole number, such as 5 or -10, not "one"` {
		t.Errorf("problems:\n%s\n%s", ps[0], ps[1])
	}
}

func TestLibrary_BrokenScoringEditKeepsTheLastGoodRules(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"welcome/sequence.md": testSequence, "scoring.yaml": testScoring})
	lib, err := NewLibrary(dir, testLayouts)
	if err != nil {
		t.Fatal(err)
	}
	good := lib.Set().Scoring
	edit(t, dir, "scoring.yaml", "mql: score >=\n")
	var inv *InvalidError
	if err := lib.Reload(); !errors.As(err, &inv) || inv.Problems[0].Line != 1 {
		t.Fatalf("Reload of a broken file = %v", err)
	}
	if lib.Set().Scoring != good {
		t.Fatal("a broken scoring.yaml replaced the good rules")
	}
	edit(t, dir, "scoring.yaml", "mql: score >= 90\npoints:\n  open: 2\n")
	c, err := lib.ReloadChanges()
	if err != nil || lib.Set().Scoring.Points.Open != 2 {
		t.Fatalf("a good edit: %v, %+v", err, lib.Set().Scoring)
	}
	if len(c.Changed) != 1 || c.Changed[0] != "scoring.yaml" {
		t.Errorf("changes = %+v", c)
	}
}
