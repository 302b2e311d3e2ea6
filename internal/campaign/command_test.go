package campaign

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck_PrintsProblemsAndASummary(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	set, err := Check(&b, "testdata/broken", testLayouts)
	var inv *InvalidError
	if set != nil || !errors.As(err, &inv) {
		t.Fatalf("Check = %v, %v; want an *InvalidError", set, err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if got := lines[len(lines)-1]; got != "testdata/broken: 33 errors, 2 warnings" {
		t.Errorf("summary = %q", got)
	}
	if lines[0] != `testdata/broken/bad/01-welcome.md:1: subject is missing: every mail needs a subject: line` {
		t.Errorf("first line = %q", lines[0])
	}
}

func TestCheck_SaysOKForValidFiles(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"a/sequence.md": testSequence,
		"a/01-x.md":     "---\nsubject: X\n---\nHi.",
		"a/02-y.md":     "---\nsubject: Y\n---\nHi.",
	})
	var b strings.Builder
	set, err := Check(&b, dir, testLayouts)
	if set == nil || err != nil {
		t.Fatal(err)
	}
	want := dir + "/a/02-y.md:1: warning: no delay: this mail goes out as soon as the previous one is sent; write delay: 0 to say so\n" +
		dir + ": ok, 1 sequence with 2 steps, 1 warning\n"
	if b.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestPreview_WritesHeadersAndTheChosenParts(t *testing.T) {
	t.Parallel()
	set := loadFiles(t, map[string]string{
		"a/sequence.md": testSequence,
		"a/01-x.md":     "---\nsubject: Hi {{ .Lead.FirstName }}\npreheader: Short\n---\nHello **{{ .Lead.Attr \"company\" }}**.",
	})
	st, err := set.Lookup("a/01-x")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Render(st, SampleData())
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte("Subject: Hi Jana\r\n\r\nthe composed mail\r\n")
	for part, want := range map[Part]string{
		PartRaw:  string(raw),
		PartText: "Hello Nordlicht Logistik GmbH.\n\n--\nNordwind Software GmbH · Speicherstadt 1 · 20457 Hamburg · Germany\nUnsubscribe: https://nurture.example/unsubscribe/SAMPLE-TOKEN\n\n",
		PartHTML: r.HTML,
		PartAll:  "Subject:   Hi Jana\nPreheader: Short\n\n----- text/plain -----\n" + r.Text + "\n\n----- text/html -----\n" + r.HTML,
	} {
		var b strings.Builder
		if err := WritePreview(&b, r, raw, part); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("part %d:\n%q\nwant\n%q", part, b.String(), want)
		}
	}
}
