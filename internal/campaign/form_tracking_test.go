package campaign

import (
	"path/filepath"
	"testing"
)

func TestLoad_FormTrackingCheckbox(t *testing.T) {
	t.Parallel()
	set, ps := Load(writeFiles(t, map[string]string{
		"forms/a.md": "---\ntitle: A\nconsent: Yes, mail me.\nconsent_version: v1\ntracking:\n  text: \" Yes, see what I open. \"\n  version: t1\n---\n",
		"forms/b.md": "---\ntitle: B\nconsent: Yes, mail me.\nconsent_version: v1\ndefault: true\n---\n",
	}), formLayouts)
	if set == nil {
		t.Fatal(ps)
	}
	a, b := set.Forms.Get("a"), set.Forms.Get("b")
	if a.Tracking == nil || a.Tracking.Text != "Yes, see what I open." || a.Tracking.Version != "t1" {
		t.Errorf("a.Tracking = %+v", a.Tracking)
	}
	if b.Tracking != nil {
		t.Errorf("a form without tracking: asks %+v", b.Tracking)
	}
}

// Every problem of a tracking checkbox is reported at its line.
func TestLoad_FormTrackingProblemsAtTheirLine(t *testing.T) {
	t.Parallel()
	head := "---\ntitle: A\nconsent: Yes, mail me.\nconsent_version: v1\n"
	dir := writeFiles(t, map[string]string{
		"forms/a.md": head + "tracking: yes\ndefault: true\n---\n",
		"forms/b.md": head + "tracking:\n  txt: Yes.\n  version: \"\"\n---\n",
		"forms/c.md": head + "tracking:\n  text: Yes, see what I open.\n  version: v1\n---\n",
		"forms/d.md": head + "tracking:\n  text: Yes, see what I open.\n  version: t1\n---\n",
		"forms/e.md": head + "tracking:\n  text: Yes, see what I click.\n  version: t1\n---\n",
		"forms/f.md": head + "tracking:\n  text: \"Yes,\\u0007 see.\"\n  version: t2\n---\n",
	})
	_, ps := Load(dir, formLayouts)
	p := func(name string) string { return filepath.Join(dir, "forms", name) }
	want := []string{
		p("a.md") + ":5: tracking is the checkbox that asks for consent to tracking, with the keys text and version",
		p("b.md") + `:6: unknown key "txt" in tracking: did you mean "text"?`,
		p("b.md") + ":5: tracking.text is missing",
		p("b.md") + ":7: tracking.version is missing",
		p("c.md") + `:7: tracking.version "v1" names another wording as this form's consent_version`,
		p("e.md") + `:7: tracking.version "t1" names another wording in ` + p("d.md"),
		p("f.md") + ":6: tracking.text must not contain line breaks or control characters",
	}
	wantProblems(t, ps, want)
}
