package campaign

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nurture/nurture/internal/problem"
)

// Lookup finds a step the way a person names it on the command line:
// "sequence/step", where step is the slug ("hello"), the file name
// ("01-hello" or "01-hello.md") or the number ("01" or "1"). Its errors
// speak to that person.
func (s *Set) Lookup(ref string) (*Step, error) {
	seqID, stepRef, ok := strings.Cut(strings.Trim(ref, "/"), "/")
	if !ok || stepRef == "" {
		if q := s.Sequence(seqID); q != nil && len(q.Steps) > 0 {
			return nil, fmt.Errorf("name one step of %s, such as %s", q.ID, stepName(q.Steps[0]))
		}
		return nil, fmt.Errorf("name a step as SEQUENCE/STEP, such as %s", s.exampleStep())
	}
	q, err := s.LookupSequence(seqID)
	if err != nil {
		return nil, err
	}
	stepRef = strings.TrimSuffix(stepRef, ".md")
	for _, st := range q.Steps {
		n, err := strconv.Atoi(stepRef)
		if st.Slug == stepRef || filepath.Base(st.Path) == stepRef+".md" || (err == nil && n == st.Number) {
			return st, nil
		}
	}
	names := make([]string, len(q.Steps))
	for i, st := range q.Steps {
		names[i] = strings.TrimSuffix(filepath.Base(st.Path), ".md")
	}
	switch {
	case len(names) == 0:
		return nil, fmt.Errorf("%s has no steps yet", q.ID)
	case suggestStep(stepRef, q) != "":
		return nil, fmt.Errorf("%s has no step %q: did you mean %s?", q.ID, stepRef, suggestStep(stepRef, q))
	}
	return nil, fmt.Errorf("%s has no step %q: its steps are %s", q.ID, stepRef, listAnd(names))
}

// LookupSequence finds a sequence by its folder's name, with an error for
// a person when there is none.
func (s *Set) LookupSequence(id string) (*Sequence, error) {
	id = strings.Trim(id, "/")
	if q := s.Sequence(id); q != nil {
		return q, nil
	}
	switch ids := s.ids(); {
	case len(ids) == 0:
		return nil, fmt.Errorf("no sequence %q: %s has no sequences", id, s.Dir)
	case problem.Suggest(id, ids) != "":
		return nil, fmt.Errorf("no sequence %q: did you mean %s?", id, problem.Suggest(id, ids))
	default:
		return nil, fmt.Errorf("no sequence %q: the sequences are %s", id, listAnd(ids))
	}
}

// suggestStep is the file name of the step whose slug or file name ref
// looks like a typo of, or "".
func suggestStep(ref string, q *Sequence) string {
	var candidates []string
	for _, st := range q.Steps {
		candidates = append(candidates, st.Slug, strings.TrimSuffix(filepath.Base(st.Path), ".md"))
	}
	c := problem.Suggest(ref, candidates)
	for _, st := range q.Steps {
		if c != "" && (c == st.Slug || c+".md" == filepath.Base(st.Path)) {
			return stepName(st)[len(q.ID)+1:]
		}
	}
	return ""
}

func (s *Set) exampleStep() string {
	for _, q := range s.Sequences {
		if len(q.Steps) > 0 {
			return stepName(q.Steps[0])
		}
	}
	return "welcome/01-hello"
}

// listAnd joins names as a sentence does: "a, b and c".
func listAnd(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
