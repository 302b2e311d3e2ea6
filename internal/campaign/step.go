package campaign

import (
	"fmt"
	"strings"

	"github.com/nurture/nurture/internal/campaign/render"
	"github.com/nurture/nurture/internal/condition"
	"github.com/nurture/nurture/internal/schedule"
)

// Step is one mail of a sequence.
type Step struct {
	Sequence string // the sequence's ID
	Slug     string // from the file name after NN-: the step's identity within its sequence
	Number   int    // the NN of the file name
	Index    int    // position in the sequence, from 0
	// Version changes whenever the step's file does.
	Version string
	Delay   schedule.Delay
	// Window, when set, is the step's own send window instead of the
	// sequence's; a zero Window (send_window: any) means any time.
	Window    *schedule.Window
	Layout    string
	Condition string // the if: expression; "" when the step is always sent
	Subject   string // as written, before placeholders are filled in
	Preheader string
	// Links are the absolute addresses the mail links to, as written;
	// links built from placeholders are left out.
	Links    []string
	Path     string
	Lines    map[string]int // front-matter key → line
	BodyLine int            // line of the file where the Markdown starts

	cond    *condition.Condition
	mail    *render.Mail
	bodySrc string // the Markdown, between parseStep and compileStep
}

// Key is the step's identity across edits: "sequence/slug".
func (st *Step) Key() string { return st.Sequence + "/" + st.Slug }

// Eval reports whether the step is to be sent to a lead: true when it has
// no condition. A false step is skipped, not retried.
func (st *Step) Eval(f Facts) (bool, error) {
	if st.cond == nil {
		return true, nil
	}
	ok, err := st.cond.Eval(f)
	if err != nil {
		return false, fmt.Errorf("campaign: %s: if %s: %w", st.Key(), st.Condition, err)
	}
	return ok, nil
}

// Line returns the line of a front-matter key, or 1 when it is not set.
func (st *Step) Line(key string) int {
	if l, ok := st.Lines[key]; ok {
		return l
	}
	return 1
}

// parseStep reads a step's front matter; compileStep does the rest once all
// steps of the sequence are known.
func parseStep(q *Sequence, path, slug string, number int, data []byte, ps *problems) *Step {
	st := &Step{
		Sequence: q.ID,
		Slug:     slug,
		Number:   number,
		Version:  version(data),
		Layout:   "default",
		Path:     path,
		Lines:    map[string]int{},
	}
	doc, ok := splitDocument(path, data, ps)
	if !ok {
		if doc.bodyLine > 0 { // the settings are broken, but the text is known: check it too
			render.CompileBody(path, doc.body, doc.bodyLine, SampleData(), ps)
		}
		return nil
	}
	st.BodyLine = doc.bodyLine
	doc.checkKeys(stepKeys, ps)
	for _, f := range doc.fields {
		st.Lines[f.key] = f.line
	}
	if f, ok := doc.get("subject"); ok {
		if v, ok := f.text(path, ps); ok {
			st.Subject = strings.TrimSpace(v)
			if st.Subject == "" {
				ps.errorf(path, f.line, "subject is empty")
			}
		}
	} else {
		ps.errorf(path, 1, "subject is missing: every mail needs a subject: line")
	}
	if f, ok := doc.get("delay"); ok {
		if v, ok := f.text(path, ps); ok {
			d, err := schedule.ParseDelay(v)
			if err != nil {
				ps.errorf(path, f.line, "%v", err)
			}
			st.Delay = d
		}
	}
	if f, ok := doc.get("send_window"); ok {
		if v, ok := f.text(path, ps); ok {
			if strings.EqualFold(strings.TrimSpace(v), "any") {
				st.Window = &schedule.Window{}
			} else if w, err := schedule.ParseWindow(v); err != nil {
				ps.errorf(path, f.line, "%v; or write any for no window", err)
			} else {
				st.Window = &w
			}
		}
	}
	if f, ok := doc.get("if"); ok {
		if v, ok := f.text(path, ps); ok {
			st.Condition = strings.TrimSpace(v)
			if st.Condition == "" {
				ps.errorf(path, f.line, "if is empty: write a condition or remove the line")
			}
		}
	}
	if f, ok := doc.get("layout"); ok {
		if v, ok := f.text(path, ps); ok && strings.TrimSpace(v) != "" {
			st.Layout = strings.TrimSpace(v)
		}
	}
	if f, ok := doc.get("preheader"); ok {
		if v, ok := f.text(path, ps); ok {
			st.Preheader = strings.TrimSpace(v)
		}
	}
	st.bodySrc = doc.body
	return st
}

// compileStep compiles what needs the whole sequence (conditions naming
// other steps) or is costly (templates), and renders the step once for the
// sample lead so that a mistake shows now rather than at send time.
func compileStep(st *Step, slugs []string, ls *render.Layouts, ps *problems) {
	path := st.Path
	if st.Index > 0 {
		if _, ok := st.Lines["delay"]; !ok {
			ps.warnf(path, 1, "no delay: this mail goes out as soon as the previous one is sent; write delay: 0 to say so")
		}
	}
	ok := st.Condition == "" || compileCondition(st, slugs, ps)
	sample := SampleData()
	m := &render.Mail{}
	var lok bool
	if m.Subject, lok = render.CompileLine(path, "subject", st.Line("subject"), st.Subject, sample, ps); !lok {
		ok = false
	}
	if st.Preheader != "" {
		if m.Preheader, lok = render.CompileLine(path, "preheader", st.Line("preheader"), st.Preheader, sample, ps); !lok {
			ok = false
		}
	}
	if strings.TrimSpace(st.bodySrc) == "" {
		ps.warnf(path, st.BodyLine, "the mail has no text below the front matter")
	}
	var bok bool
	m.Body, bok = render.CompileBody(path, st.bodySrc, st.BodyLine, sample, ps)
	var why string
	if m.Layout, why = ls.Get(st.Layout); m.Layout == nil {
		ps.errorf(path, st.Line("layout"), "%s", why)
		ok = false
	}
	if !ok || !bok {
		return
	}
	st.mail = m
	st.Links = m.Body.Links()
	if _, err := Render(st, sample); err != nil {
		ps.errorf(path, st.BodyLine, "cannot render for the sample lead: %v", err)
	}
}
