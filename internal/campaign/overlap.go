package campaign

import (
	"strings"
)

// sameLeads reports whether two triggers enrol the same leads at the same
// moment, so that a lead would get both sequences at once: the same event
// or stage, or confirmation from the same source (no sources meaning any
// source, which overlaps only with another any). Manual triggers enrol
// no one by themselves.
func sameLeads(a, b Trigger) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case TriggerEvent:
		return strings.EqualFold(a.Event, b.Event)
	case TriggerStage:
		return a.Stage == b.Stage
	case TriggerRecycled:
		return true
	case TriggerConfirmed:
		if len(a.Sources) == 0 || len(b.Sources) == 0 {
			return len(a.Sources) == len(b.Sources)
		}
		for _, s := range a.Sources {
			if containsFold(b.Sources, s) {
				return true
			}
		}
	}
	return false
}

// warnSameTrigger warns of a sequence that enrols the same leads as one
// before it, as a copied folder does until its trigger is changed: each
// new lead would get both. The warning is said once, on the later one,
// naming the earlier ones; which of them is the copy only a person knows.
func warnSameTrigger(qs []*Sequence, ps *problems) {
	for i, q := range qs {
		var same []string
		for _, o := range qs[:i] {
			if sameLeads(q.Trigger, o.Trigger) {
				same = append(same, o.ID)
			}
		}
		if len(same) == 0 {
			continue
		}
		ps.warnf(q.Path, q.lineOf("trigger"), "trigger %s: %s enrols the same leads, so each of them gets both sequences at once; give one its own trigger or sources (a copy belongs in _drafts/ until it has them)",
			q.Trigger, strings.Join(same, " and "))
	}
}

// lineOf returns the line of a front-matter key of sequence.md, or 1.
func (q *Sequence) lineOf(key string) int {
	if l, ok := q.Lines[key]; ok {
		return l
	}
	return 1
}
