package campaign

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
)

// Changes is what one reload changed, for the log: sequences and steps
// added, changed or removed, each named as a marketer names it
// ("sequence webinar", "step welcome/02-best-of"), and the warnings worth
// showing again.
type Changes struct {
	Added, Changed, Removed []string
	// Warnings are the new Set's warnings that are new, or in a file that
	// changed; the others were logged before.
	Warnings []Problem
}

// IsZero reports whether the reload changed nothing that sends mail.
func (c Changes) IsZero() bool {
	return len(c.Added) == 0 && len(c.Changed) == 0 && len(c.Removed) == 0
}

// Diff tells what changed from old to new; old may be nil, when nothing
// was loaded before.
func Diff(old, new *Set) Changes {
	if old == nil {
		old = &Set{}
	}
	var c Changes
	touched := map[string]bool{} // files added or changed
	before := map[string]*Sequence{}
	for _, q := range old.Sequences {
		before[q.ID] = q
	}
	for _, q := range new.Sequences {
		o := before[q.ID]
		delete(before, q.ID)
		if o == nil {
			c.Added = append(c.Added, fmt.Sprintf("sequence %s with %d %s", q.ID, len(q.Steps), plural(len(q.Steps), "step", "steps")))
			touched[q.Path] = true
			for _, st := range q.Steps {
				touched[st.Path] = true
			}
			continue
		}
		if o.Version != q.Version {
			c.Changed = append(c.Changed, "sequence "+q.ID)
			touched[q.Path] = true
		}
		diffSteps(&c, o, q, touched)
	}
	for _, q := range old.Sequences {
		if before[q.ID] != nil {
			c.Removed = append(c.Removed, "sequence "+q.ID)
		}
	}
	c.Changed = append(c.Changed, changedLayouts(old, new)...)
	switch {
	case old.scoringVersion == new.scoringVersion:
	case old.scoringVersion == "":
		c.Added = append(c.Added, ScoringFile)
	case new.scoringVersion == "":
		c.Removed = append(c.Removed, ScoringFile)
	default:
		c.Changed = append(c.Changed, ScoringFile)
	}
	if new.Scoring != nil && new.scoringVersion != old.scoringVersion {
		touched[new.Scoring.Path] = true
	}
	for _, p := range new.Warnings {
		if touched[p.Path] || !slices.Contains(old.Warnings, p) {
			c.Warnings = append(c.Warnings, p)
		}
	}
	return c
}

// diffSteps adds the steps of one sequence that were added, changed
// (their file, or their number) or removed.
func diffSteps(c *Changes, old, new *Sequence, touched map[string]bool) {
	for _, st := range new.Steps {
		o := old.Step(st.Slug)
		switch {
		case o == nil:
			c.Added = append(c.Added, "step "+stepName(st))
			touched[st.Path] = true
		case o.Number != st.Number:
			c.Changed = append(c.Changed, fmt.Sprintf("step %s (was %02d)", stepName(st), o.Number))
			touched[st.Path] = true
		case o.Version != st.Version:
			c.Changed = append(c.Changed, "step "+stepName(st))
			touched[st.Path] = true
		}
	}
	for _, o := range old.Steps {
		if new.Step(o.Slug) == nil {
			c.Removed = append(c.Removed, "step "+stepName(o))
		}
	}
}

// changedLayouts names the layouts both Sets use whose files changed.
func changedLayouts(old, new *Set) []string {
	versions := func(s *Set) map[string]string {
		m := map[string]string{}
		for _, q := range s.Sequences {
			for _, st := range q.Steps {
				if st.mail != nil {
					m[st.mail.Layout.Name] = st.mail.Layout.Version
				}
			}
		}
		return m
	}
	was, is := versions(old), versions(new)
	var out []string
	for name, v := range is {
		if w, ok := was[name]; ok && w != v {
			out = append(out, "layout "+name)
		}
	}
	slices.Sort(out)
	return out
}

// stepName is how a person names a step: its sequence and its file name
// without .md, such as welcome/02-best-of.
func stepName(st *Step) string {
	return st.Sequence + "/" + strings.TrimSuffix(filepath.Base(st.Path), ".md")
}

// logReloaded logs one line that says what a reload changed, with msg
// such as "campaigns: reloaded", and then the warnings worth repeating,
// each as path:line: warning: message.
func logReloaded(logger *slog.Logger, msg string, c Changes, set *Set) {
	attrs := []any{"sequences", len(set.Sequences), "warnings", len(set.Warnings)}
	for _, kv := range []struct {
		key   string
		names []string
	}{{"added", c.Added}, {"changed", c.Changed}, {"removed", c.Removed}} {
		if len(kv.names) > 0 {
			attrs = append(attrs, kv.key, strings.Join(kv.names, ", "))
		}
	}
	if c.IsZero() {
		msg += "; nothing changed"
	}
	logger.Info(msg, attrs...)
	for _, p := range c.Warnings {
		logger.Log(context.Background(), slog.LevelWarn, "campaigns: "+p.String())
	}
}
