package campaign

import (
	"testing"
)

func TestCheck_ReturnsEveryProblemSortedAndNoSet(t *testing.T) {
	t.Parallel()
	set, ps := Check("testdata/broken", testLayouts)
	if set != nil {
		t.Fatalf("Check = %v; want no Set", set)
	}
	errs, warns := Count(ps)
	if errs != 34 || warns != 2 {
		t.Errorf("%d errors, %d warnings; want 34 errors, 2 warnings", errs, warns)
	}
	if ps[0].String() != `testdata/broken/bad/01-welcome.md:1: subject is missing: every mail needs a subject: line` {
		t.Errorf("first problem = %q", ps[0])
	}
}

func TestCheck_VetsAValidSet(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"a/sequence.md": testSequence,
		"a/01-x.md":     "---\nsubject: X\n---\nHi.",
		"a/02-y.md":     "---\nsubject: Y\n---\nHi.",
	})
	set, ps := Check(dir, testLayouts)
	if set == nil || len(ps) != 1 || ps[0].String() != dir+"/a/02-y.md:1: warning: no delay: this mail goes out as soon as the previous one is sent; write delay: 0 to say so" {
		t.Fatalf("Check = %v, %v", set, ps)
	}
	vetted := false
	set, ps = Check(dir, testLayouts, func(s *Set) []Problem {
		vetted = s != nil
		return []Problem{{Path: dir + "/a/01-x.md", Line: 1, Msg: "the database says no"}}
	})
	if !vetted || set != nil || len(ps) != 2 || ps[0].Msg != "the database says no" {
		t.Errorf("a vet's error: Set %v, problems %v", set, ps)
	}
}
