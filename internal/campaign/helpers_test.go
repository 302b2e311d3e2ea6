package campaign

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// testLayouts stand in for the templates folder: small, so that tests read
// the content easily.
var testLayouts = fstest.MapFS{
	"email/layouts/default.html": {Data: []byte(`<html><head><title>{{ .Subject }}</title></head><body>` +
		`<div class="pre">{{ .Preheader }}</div>{{ .Content }}<footer>{{ .Footer }} <a href="{{ .UnsubscribeURL }}">Unsubscribe</a></footer></body></html>`)},
	"email/layouts/default.txt": {Data: []byte("{{ .Content }}\n\n--\n{{ .Footer }}\nUnsubscribe: {{ .UnsubscribeURL }}\n")},
	"email/layouts/plain.html":  {Data: []byte(`<div class="plain">{{ .Content }}</div>`)},
	"email/layouts/plain.txt":   {Data: []byte("{{ .Content }}")},
}

// writeFiles writes files (path → content) under a new temporary folder
// and returns it.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const testSequence = "---\nname: Test\ntrigger: confirmed\n---\nA test sequence.\n"

// loadStep loads a sequence "s" whose only step is 01-mail.md with the
// given front matter lines and body, and fails the test on any error.
func loadStep(t testing.TB, frontMatter, body string) *Step {
	t.Helper()
	set := loadFiles(t, map[string]string{
		"s/sequence.md": testSequence,
		"s/01-mail.md":  "---\n" + frontMatter + "\n---\n" + body,
	})
	return set.Step("s/mail")
}

func loadFiles(t testing.TB, files map[string]string) *Set {
	t.Helper()
	set, ps := Load(writeFiles(t, files), testLayouts)
	if set == nil {
		var lines []string
		for _, p := range ps {
			lines = append(lines, p.String())
		}
		t.Fatalf("Load failed:\n%s", strings.Join(lines, "\n"))
	}
	return set
}

// wantProblems wants each of want to begin one of the problems ps, read as
// they are printed, and returns them so read.
func wantProblems(t *testing.T, ps []Problem, want []string) []string {
	t.Helper()
	var got []string
	for _, pr := range ps {
		got = append(got, pr.String())
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("missing problem\n  %s\nin\n  %s", w, strings.Join(got, "\n  "))
		}
	}
	return got
}

func mustRender(t testing.TB, st *Step, d Data) Rendered {
	t.Helper()
	r, err := Render(st, d)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
