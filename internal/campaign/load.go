package campaign

import (
	"cmp"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nurture/nurture/internal/campaign/render"
	"github.com/nurture/nurture/internal/problem"
	"github.com/nurture/nurture/internal/schedule"
)

var (
	stepFileRE  = regexp.MustCompile(`^(\d+)-(.*)\.md$`)
	slugRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	sequenceRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	nameTokenRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)
)

var (
	sequenceKeys = []string{"name", "trigger", "sources", "exit", "send_window", "timezone", "reenroll"}
	stepKeys     = []string{"subject", "delay", "if", "layout", "preheader", "send_window"}
	exitKeys     = []string{"stage", "event", "clicked_url"}
	triggerKeys  = []string{"event", "stage"}
)

// Load reads the campaign files under dir: one folder per sequence, each
// with a sequence.md and NN-slug.md steps, the signup forms in forms/, and
// scoring.yaml (see package scoring). Other files at the top level, such as
// README.md, and folders whose names start with . or _ are
// left alone. Layouts come from email/layouts/ in templates. The Set is nil
// when any problem is an error; the problems come sorted by file and line.
func Load(dir string, templates fs.FS) (*Set, []Problem) {
	var ps problems
	set := &Set{Dir: dir, steps: map[string]*Step{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			ps.errorf(dir, 1, "the campaigns folder does not exist")
		} else {
			ps.errorf(dir, 1, "cannot read the campaigns folder: %v", readError(err))
		}
		return nil, ps
	}
	ls := render.NewLayouts(templates, SampleData(), &ps)
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == FormsDir {
			continue
		}
		if q := loadSequence(filepath.Join(dir, name), name, ls, &ps); q != nil {
			set.Sequences = append(set.Sequences, q)
			for _, st := range q.Steps {
				set.steps[st.Key()] = st
			}
		}
	}
	warnSameTrigger(set.Sequences, &ps)
	set.Forms = loadForms(dir, templates, &ps)
	loadScoring(dir, set, &ps)
	sortProblems(ps)
	if HasErrors(ps) {
		return nil, ps
	}
	set.Warnings = ps
	return set, ps
}

func loadSequence(dir, id string, ls *render.Layouts, ps *problems) *Sequence {
	seqPath := filepath.Join(dir, "sequence.md")
	if !sequenceRE.MatchString(id) {
		ps.errorf(dir, 1, "folder name %q cannot name a sequence: use lower-case letters, digits, - and _", id)
		return nil
	}
	q := &Sequence{ID: id, Name: id, Path: seqPath, Timezone: "lead", Lines: map[string]int{}}
	data, err := os.ReadFile(seqPath)
	switch {
	case os.IsNotExist(err):
		ps.errorf(seqPath, 1, "missing: every sequence folder needs a sequence.md that says what enrols a lead")
	case err != nil:
		ps.errorf(seqPath, 1, "cannot read: %v", readError(err))
	default:
		q.Version = version(data)
		parseSequence(q, data, ps)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		ps.errorf(dir, 1, "cannot read: %v", readError(err))
		return nil
	}
	byNumber := map[int]string{}
	bySlug := map[string]string{}
	stepFiles := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == "sequence.md" || !strings.HasSuffix(name, ".md") {
			continue
		}
		p := filepath.Join(dir, name)
		m := stepFileRE.FindStringSubmatch(name)
		if m == nil {
			ps.warnf(p, 1, "ignored: a step's file name is a number, a hyphen and a name, such as 01-welcome.md")
			continue
		}
		n, _ := strconv.Atoi(m[1])
		stepFiles++
		if !slugRE.MatchString(m[2]) {
			ps.errorf(p, 1, "step name %q: use lower-case letters, digits and hyphens after the number, such as 01-welcome.md", m[2])
			continue
		}
		if other, dup := byNumber[n]; dup {
			ps.errorf(p, 1, "step number %s is also used by %s: each step needs its own number, which sets the order", m[1], other)
			continue
		}
		if other, dup := bySlug[m[2]]; dup {
			ps.errorf(p, 1, "step name %q is also used by %s: the name is the step's identity, so it must be unique in the sequence", m[2], other)
			continue
		}
		byNumber[n], bySlug[m[2]] = name, name
		data, err := os.ReadFile(p)
		if err != nil {
			ps.errorf(p, 1, "cannot read: %v", readError(err))
			continue
		}
		st := parseStep(q, p, m[2], n, data, ps)
		if st != nil {
			q.Steps = append(q.Steps, st)
		}
	}
	slices.SortFunc(q.Steps, func(a, b *Step) int { return cmp.Compare(a.Number, b.Number) })
	slugs := make([]string, len(q.Steps))
	for i, st := range q.Steps {
		st.Index = i
		slugs[i] = st.Slug
	}
	for _, st := range q.Steps {
		compileStep(st, slugs, ls, ps)
	}
	if stepFiles == 0 && data != nil {
		ps.warnf(seqPath, 1, "the sequence has no steps yet: add files such as 01-welcome.md beside sequence.md")
	}
	return q
}

func parseSequence(q *Sequence, data []byte, ps *problems) {
	path := q.Path
	doc, ok := splitDocument(path, data, ps)
	if !ok {
		return
	}
	q.Description = strings.TrimSpace(doc.body)
	doc.checkKeys(sequenceKeys, ps)
	for _, f := range doc.fields {
		q.Lines[f.key] = f.line
	}
	if f, ok := doc.get("name"); ok {
		if v, ok := f.text(path, ps); ok && strings.TrimSpace(v) != "" {
			q.Name = strings.TrimSpace(v)
		}
	}
	if f, ok := doc.get("trigger"); ok {
		parseTrigger(q, f, path, ps)
	} else {
		ps.errorf(path, 1, "trigger is missing: say what enrols a lead, such as trigger: confirmed")
	}
	if f, ok := doc.get("sources"); ok {
		if srcs, ok := f.list(path, ps); ok {
			if q.Trigger.Kind != TriggerConfirmed && q.Trigger.Kind != "" {
				ps.errorf(path, f.line, "sources only works with trigger: confirmed")
			}
			for _, s := range srcs {
				if !nameTokenRE.MatchString(s) {
					ps.errorf(path, f.line, "source %q: a source is one word such as ebook-datensicherheit", s)
				}
			}
			q.Trigger.Sources = srcs
		}
	}
	if f, ok := doc.get("exit"); ok {
		parseExit(q, f, path, ps)
	}
	if f, ok := doc.get("send_window"); ok {
		if v, ok := f.text(path, ps); ok {
			w, err := schedule.ParseWindow(v)
			if err != nil {
				ps.errorf(path, f.line, "%v", err)
			}
			q.Window = w
		}
	}
	if f, ok := doc.get("timezone"); ok {
		if v, ok := f.text(path, ps); ok {
			v = strings.TrimSpace(v)
			switch {
			case v == "lead":
				q.Timezone = v
			case loadLocation(v) != nil:
				q.Timezone, q.loc = v, loadLocation(v)
			default:
				ps.errorf(path, f.line, "timezone %q: write lead (each lead's own zone) or a zone name such as Europe/Berlin", v)
			}
		}
	}
	if f, ok := doc.get("reenroll"); ok {
		q.Reenroll, _ = f.boolean(path, ps)
	}
}

func parseTrigger(q *Sequence, f field, path string, ps *problems) {
	const shapes = "use confirmed, manual, recycled, event: TYPE or stage: STAGE"
	switch f.node.Kind {
	case yaml.ScalarNode:
		switch v := strings.TrimSpace(f.node.Value); v {
		case "confirmed", "manual", "recycled":
			q.Trigger.Kind = TriggerKind(v)
		case "event", "stage":
			ps.errorf(path, f.line, "trigger %s needs a value on the next line, such as\n  trigger:\n    %s: %s", v, v, map[string]string{"event": "webinar_attended", "stage": "mql"}[v])
		default:
			if s := problem.Suggest(v, []string{"confirmed", "manual", "recycled"}); s != "" {
				ps.errorf(path, f.line, "trigger %q is unknown: did you mean %s?", v, s)
			} else {
				ps.errorf(path, f.line, "trigger %q is unknown: %s", v, shapes)
			}
		}
	case yaml.MappingNode:
		if len(f.node.Content) != 2 {
			ps.errorf(path, f.line, "trigger takes one of event: or stage:, not several")
			return
		}
		k, v := f.node.Content[0], f.node.Content[1]
		sub := field{key: "trigger " + k.Value, line: k.Line + 1, node: v}
		if !slices.Contains(triggerKeys, k.Value) {
			ps.errorf(path, sub.line, "trigger %q is unknown: %s", k.Value, shapes)
			return
		}
		val, ok := sub.text(path, ps)
		if !ok {
			return
		}
		val = strings.TrimSpace(val)
		switch k.Value {
		case "event":
			if !nameTokenRE.MatchString(val) {
				ps.errorf(path, sub.line, "trigger event %q: an event type is one word such as webinar_attended", val)
				return
			}
			q.Trigger = Trigger{Kind: TriggerEvent, Event: val}
		case "stage":
			st, err := parseStage(val)
			if err != nil {
				ps.errorf(path, sub.line, "trigger stage: %v", err)
				return
			}
			q.Trigger = Trigger{Kind: TriggerStage, Stage: st}
		}
	default:
		ps.errorf(path, f.line, "trigger: %s", shapes)
	}
}

func parseExit(q *Sequence, f field, path string, ps *problems) {
	if f.node.Kind != yaml.MappingNode {
		ps.errorf(path, f.line, "exit takes keys on the lines below it: stage, event or clicked_url")
		return
	}
	for i := 0; i+1 < len(f.node.Content); i += 2 {
		k, v := f.node.Content[i], f.node.Content[i+1]
		sub := field{key: "exit " + k.Value, line: k.Line + 1, node: v}
		if !slices.Contains(exitKeys, k.Value) {
			if s := problem.Suggest(k.Value, exitKeys); s != "" {
				ps.errorf(path, sub.line, "unknown key %q in exit: did you mean %q?", k.Value, s)
			} else {
				ps.errorf(path, sub.line, "unknown key %q in exit: use stage, event or clicked_url", k.Value)
			}
			continue
		}
		vals, ok := sub.list(path, ps)
		if !ok {
			continue
		}
		for _, val := range vals {
			switch k.Value {
			case "stage":
				st, err := parseStage(val)
				if err != nil {
					ps.errorf(path, sub.line, "exit stage: %v", err)
					continue
				}
				q.Exit.Stages = append(q.Exit.Stages, st)
			case "event":
				if !nameTokenRE.MatchString(val) {
					ps.errorf(path, sub.line, "exit event %q: an event type is one word such as demo_booked", val)
					continue
				}
				q.Exit.Events = append(q.Exit.Events, val)
			case "clicked_url":
				static, _, _ := strings.Cut(val, "*")
				if !strings.HasPrefix(static, "https://") && !strings.HasPrefix(static, "http://") {
					ps.errorf(path, sub.line, "exit clicked_url %q: write a full address, with * for any text, such as https://example.com/pricing*", val)
					continue
				}
				q.Exit.ClickedURLs = append(q.Exit.ClickedURLs, val)
			}
		}
	}
}
