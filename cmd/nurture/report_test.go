package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/nurture/nurture/internal/campaign"
)

func TestWriteCheck_PrintsProblemsAndASummary(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	set, ps := campaign.Check("../../internal/campaign/testdata/broken", nil)
	err := writeCheck(&b, "testdata/broken", set, ps)
	var inv *campaign.InvalidError
	if set != nil || !errors.As(err, &inv) {
		t.Fatalf("writeCheck = %v; want an *InvalidError", err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != len(ps)+1 || lines[0] != ps[0].String() {
		t.Errorf("lines = %q, want each problem first", lines)
	}
	errs, warns := campaign.Count(ps)
	want := "testdata/broken: " + count(errs, "error", "errors") + ", " + count(warns, "warning", "warnings")
	if got := lines[len(lines)-1]; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	b.Reset()
	writeCheck(&b, "x", nil, []campaign.Problem{{Path: "x/a.md", Line: 2, Msg: "m"}, {Path: "x/b.md", Line: 1, Msg: "w", Severity: campaign.SeverityWarning}})
	if want := "x/a.md:2: m\nx/b.md:1: warning: w\nx: 1 error, 1 warning\n"; b.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteCheck_SaysOKForValidFiles(t *testing.T) {
	t.Parallel()
	set := timelineSet(t, map[string]string{
		"a/sequence.md": "---\nname: Test\ntrigger: confirmed\n---\nA test sequence.\n",
		"a/01-x.md":     "---\nsubject: X\n---\nHi.",
		"a/02-y.md":     "---\nsubject: Y\n---\nHi.",
	})
	var b strings.Builder
	if err := writeCheck(&b, set.Dir, set, set.Warnings); err != nil {
		t.Fatal(err)
	}
	want := set.Dir + "/a/02-y.md:1: warning: no delay: this mail goes out as soon as the previous one is sent; write delay: 0 to say so\n" +
		set.Dir + ": ok, 1 sequence with 2 steps, 1 warning\n"
	if b.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	two := &campaign.Set{Sequences: []*campaign.Sequence{{}, {}}, Forms: campaign.Forms{{}, {}}}
	if err := writeCheck(&b, "d", two, nil); err != nil || b.String() != "d: ok, 2 sequences with 0 steps, 2 forms, 0 warnings\n" {
		t.Errorf("output %q, %v", b.String(), err)
	}
}

func TestWritePreview_WritesHeadersAndTheChosenParts(t *testing.T) {
	t.Parallel()
	r := campaign.Rendered{Subject: "Hi Jana", Preheader: "Short", Text: "Hello Nordlicht Logistik GmbH.", HTML: "<p>Hello <strong>Nordlicht Logistik GmbH</strong>.</p>"}
	raw := []byte("Subject: Hi Jana\r\n\r\nthe composed mail\r\n")
	for p, want := range map[part]string{
		partRaw:  string(raw),
		partText: r.Text + "\n",
		partHTML: r.HTML,
		partAll:  "Subject:   Hi Jana\nPreheader: Short\n\n----- text/plain -----\n" + r.Text + "\n\n----- text/html -----\n" + r.HTML,
	} {
		var b strings.Builder
		if err := writePreview(&b, r, raw, p); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("part %d:\n%q\nwant\n%q", p, b.String(), want)
		}
	}
	r.Preheader = ""
	var b strings.Builder
	if err := writePreview(&b, r, raw, partAll); err != nil || strings.Contains(b.String(), "Preheader:") {
		t.Errorf("without a preheader: %q, %v", b.String(), err)
	}
}
