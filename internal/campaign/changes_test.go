package campaign

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiff_NamesWhatAReloadAddedChangedOrRemoved(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"welcome/sequence.md":    "---\ntrigger: confirmed\nsources: [newsletter]\n---\n",
		"welcome/01-hello.md":    "---\nsubject: Hello\n---\nHi.",
		"welcome/02-tips.md":     "---\nsubject: Tips\ndelay: 1d\n---\nTips.",
		"welcome/03-question.md": "---\nsubject: Question\ndelay: 1w\n---\nWell?",
		"ebook/sequence.md":      "---\ntrigger: confirmed\nsources: [ebook]\n---\n",
		"ebook/01-copy.md":       "---\nsubject: Your copy\n---\nHere.",
	}
	const noDelay = "---\nsubject: Later\n---\nNo delay."
	for _, tt := range []struct {
		name     string
		edits    map[string]string // "" removes the file
		added    string
		changed  string
		removed  string
		warnings string
	}{
		{name: "nothing"},
		{
			name:  "a copied sequence",
			edits: map[string]string{"webinar/sequence.md": base["welcome/sequence.md"], "webinar/01-hello.md": base["welcome/01-hello.md"]},
			added: "sequence webinar with 1 step",
			warnings: "welcome/sequence.md:2: warning: trigger confirmed, from newsletter: webinar enrols the same leads, " +
				"so each of them gets both sequences at once; give one its own trigger or sources (a copy belongs in _drafts/ until it has them)",
		},
		{
			name:    "settings and a step's text",
			edits:   map[string]string{"welcome/sequence.md": "---\ntrigger: confirmed\nsources: [newsletter]\nsend_window: daily 08:00-20:00\n---\n", "welcome/02-tips.md": "---\nsubject: Tips\ndelay: 1d\n---\nMore tips."},
			changed: "sequence welcome, step welcome/02-tips",
		},
		{
			name:    "a step renumbered, one added and one removed",
			edits:   map[string]string{"welcome/03-question.md": "", "welcome/05-question.md": base["welcome/03-question.md"], "welcome/04-offer.md": noDelay, "ebook/01-copy.md": ""},
			added:   "step welcome/04-offer",
			changed: "step welcome/05-question (was 03)",
			removed: "step ebook/01-copy",
			warnings: "ebook/sequence.md:1: warning: the sequence has no steps yet: add files such as 01-welcome.md beside sequence.md\n" +
				"welcome/04-offer.md:1: warning: no delay: this mail goes out as soon as the previous one is sent; write delay: 0 to say so",
		},
		{
			name:    "a sequence removed",
			edits:   map[string]string{"ebook/sequence.md": "", "ebook/01-copy.md": ""},
			removed: "sequence ebook",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeFiles(t, base)
			old, ps := Load(dir, testLayouts)
			if old == nil {
				t.Fatal(ps)
			}
			for name, content := range tt.edits {
				if content == "" {
					if err := os.Remove(filepath.Join(dir, name)); err != nil {
						t.Fatal(err)
					}
					continue
				}
				edit(t, dir, name, content)
			}
			os.Remove(filepath.Join(dir, "ebook")) // only once it is empty
			cur, ps := Load(dir, testLayouts)
			if cur == nil {
				t.Fatal(ps)
			}
			c := Diff(old, cur)
			var warnings []string
			for _, p := range c.Warnings {
				warnings = append(warnings, strings.TrimPrefix(p.String(), dir+"/"))
			}
			for _, x := range []struct{ what, got, want string }{
				{"added", strings.Join(c.Added, ", "), tt.added},
				{"changed", strings.Join(c.Changed, ", "), tt.changed},
				{"removed", strings.Join(c.Removed, ", "), tt.removed},
				{"warnings", strings.Join(warnings, "\n"), tt.warnings},
			} {
				if x.got != x.want {
					t.Errorf("%s:\n%s\nwant:\n%s", x.what, x.got, x.want)
				}
			}
			if c.IsZero() != (tt.added+tt.changed+tt.removed == "") {
				t.Errorf("IsZero = %v", c.IsZero())
			}
		})
	}
}

func TestDiff_NamesAChangedLayout(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, goodFiles)
	tpl := writeFiles(t, map[string]string{
		"email/layouts/default.html": `{{ .Content }} <a href="{{ .UnsubscribeURL }}">Unsubscribe</a>`,
		"email/layouts/default.txt":  "{{ .Content }}\n{{ .UnsubscribeURL }}\n",
	})
	old, _ := Load(dir, os.DirFS(tpl))
	edit(t, tpl, "email/layouts/default.txt", "{{ .Content }}\n-- Acme\n{{ .UnsubscribeURL }}\n")
	cur, _ := Load(dir, os.DirFS(tpl))
	if c := Diff(old, cur); strings.Join(c.Changed, ", ") != "layout default" || len(c.Added)+len(c.Removed) != 0 {
		t.Errorf("Diff = %+v", c)
	}
}

// attrsOf is a log record's attributes as key=value text.
func attrsOf(r slog.Record) string {
	var parts []string
	r.Attrs(func(a slog.Attr) bool {
		parts = append(parts, a.Key+"="+a.Value.String())
		return true
	})
	return strings.Join(parts, " ")
}

// waitRecord returns the first record whose message contains want.
func (h *logRecorder) waitRecord(t *testing.T, want string) slog.Record {
	t.Helper()
	seen := h.waitRecords(t, want)
	return seen[len(seen)-1]
}

// A copy of a sequence kept in _drafts/ is left alone; moved out, it goes
// live, and the reload's line names it, followed by the warning that it
// enrols the same leads as the original.
func TestLibrary_WatchLogsWhatEachReloadChanged(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, goodFiles)
	lib, err := NewLibrary(dir, testLayouts)
	if err != nil {
		t.Fatal(err)
	}
	logs, stop := watch(t, lib)

	edit(t, dir, "welcome/01-hello.md", "---\nsubject: Hello\n---\nVersion two.")
	if r := logs.waitRecord(t, "campaigns: reloaded"); !strings.Contains(attrsOf(r), "changed=step welcome/01-hello") {
		t.Errorf("reload line: %s %s", r.Message, attrsOf(r))
	}

	edit(t, dir, "_drafts/webinar/sequence.md", testSequence)
	edit(t, dir, "_drafts/webinar/01-hello.md", "---\nsubject: Hello\n---\nA copy.")
	if r := logs.waitRecord(t, "campaigns: reloaded"); r.Message != "campaigns: reloaded; nothing changed" || strings.Contains(attrsOf(r), "added") {
		t.Errorf("a draft went live: %s %s", r.Message, attrsOf(r))
	}
	if lib.Set().Sequence("webinar") != nil {
		t.Fatal("the draft is live")
	}

	if err := os.Rename(filepath.Join(dir, "_drafts/webinar"), filepath.Join(dir, "webinar")); err != nil {
		t.Fatal(err)
	}
	r := logs.waitRecord(t, "campaigns: reloaded")
	if got := attrsOf(r); !strings.Contains(got, "added=sequence webinar with 1 step") {
		t.Errorf("reload line: %s %s", r.Message, got)
	}
	w := logs.waitRecord(t, "campaigns: ")
	if w.Level != slog.LevelWarn || !strings.HasSuffix(w.Message, "welcome/sequence.md:3: warning: trigger confirmed: webinar enrols the same leads, so each of them gets both sequences at once; give one its own trigger or sources (a copy belongs in _drafts/ until it has them)") {
		t.Errorf("after the reload line: %v %s", w.Level, w.Message)
	}
	stop()
}
