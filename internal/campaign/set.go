package campaign

import (
	"cmp"
	"slices"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/scoring"
)

// Set is one load of the campaign files in which nothing is wrong but
// perhaps a few warnings. It is never changed after Load returns, so any
// number of goroutines may use it.
type Set struct {
	Dir       string
	Sequences []*Sequence    // by ID
	Forms     Forms          // the signup forms, by slug
	Scoring   *scoring.Rules // scoring.yaml; nil when the folder has none
	Warnings  []Problem

	steps          map[string]*Step
	scoringVersion string
}

// Sequence returns the sequence with an ID (its folder's name), or nil.
func (s *Set) Sequence(id string) *Sequence {
	i, ok := slices.BinarySearchFunc(s.Sequences, id, func(q *Sequence, id string) int { return cmp.Compare(q.ID, id) })
	if !ok {
		return nil
	}
	return s.Sequences[i]
}

// Step returns the step with a key such as "welcome/hello", or nil.
func (s *Set) Step(key string) *Step { return s.steps[key] }

func (s *Set) ids() []string {
	ids := make([]string, len(s.Sequences))
	for i, q := range s.Sequences {
		ids[i] = q.ID
	}
	return ids
}

// OnConfirmed returns the sequences a lead from source enters when it
// confirms its address.
func (s *Set) OnConfirmed(source string) []*Sequence {
	return s.filter(func(q *Sequence) bool { return q.Trigger.OnConfirmed(source) })
}

// OnEvent returns the sequences an event of this type enrols a lead in.
func (s *Set) OnEvent(typ string) []*Sequence {
	return s.filter(func(q *Sequence) bool { return q.Trigger.OnEvent(typ) })
}

// OnRecycled returns the sequences a lead enters when sales rejects it
// and it goes back to stage lead.
func (s *Set) OnRecycled() []*Sequence {
	return s.filter(func(q *Sequence) bool { return q.Trigger.OnRecycled() })
}

// OnStage returns the sequences a lead enters on reaching a stage.
func (s *Set) OnStage(st lead.Stage) []*Sequence {
	return s.filter(func(q *Sequence) bool { return q.Trigger.OnStage(st) })
}

// ExitOnStage returns the sequences whose exit a lead reaching a stage
// leaves by.
func (s *Set) ExitOnStage(st lead.Stage) []*Sequence {
	return s.filter(func(q *Sequence) bool { return q.Exit.OnStage(st) })
}

func (s *Set) filter(keep func(*Sequence) bool) []*Sequence {
	var out []*Sequence
	for _, q := range s.Sequences {
		if keep(q) {
			out = append(out, q)
		}
	}
	return out
}
