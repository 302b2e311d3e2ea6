package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// Store is what the reports read; *store.Store is one.
type Store interface {
	EngagementSteps(ctx context.Context, f store.ReportFilter) ([]store.StepEngagement, error)
	EngagementLinks(ctx context.Context, f store.ReportFilter) ([]store.LinkEngagement, error)
}

// Service builds reports.
type Service struct {
	st    Store
	steps func() []string
}

// New returns the reports over st. steps, optional, returns every step
// key of the campaigns in their order; a report lists the steps it knows
// in that order, and the others (steps deleted since) after them by key.
func New(st Store, steps func() []string) *Service {
	if steps == nil {
		steps = func() []string { return nil }
	}
	return &Service{st: st, steps: steps}
}

// Filter picks the mails a report covers: those of one sequence (empty:
// all) delivered at or after Since (zero: ever). The opens and clicks of
// those mails count whenever they came.
type Filter struct {
	Sequence string
	Since    time.Time
}

// Count is one figure twice: Raw, every hit recorded; Counted, those with
// a verdict that counts (human, image_proxy).
type Count struct {
	Raw     int64
	Counted int64
}

// Verdicts are the raw opens and clicks of each verdict.
type Verdicts struct {
	Human, ImageProxy, AppleMPP, Scanner, Prefetch int64
}

// Link is the clicks of one link of a step's mails. The honeypot, which no
// person sees, has Honeypot set and no URL.
type Link struct {
	URL, Text string
	Honeypot  bool
	Clicks    Count
}

// Step is what one step's mails drew. Opens.Counted includes one open for
// each mail clicked (counted) whose open was not counted, since the click
// shows it was read; Openers and Clickers are leads, counted.
type Step struct {
	Key, Slug string
	Sent      int64
	Opens     Count
	Clicks    Count // the honeypot's hits are raw clicks
	Openers   int64
	Clickers  int64
	Verdicts  Verdicts
	Links     []Link
}

// Sequence is the steps of one sequence.
type Sequence struct {
	Name  string
	Steps []Step
}

// Engagement is the engagement report of a filter.
type Engagement struct {
	Filter    Filter
	Sequences []Sequence
}

// Engagement reports the opens and clicks of the mails f picks, per
// sequence, step and link, raw and counted.
func (s *Service) Engagement(ctx context.Context, f Filter) (*Engagement, error) {
	sf := store.ReportFilter{Sequence: f.Sequence, Since: f.Since}
	rows, err := s.st.EngagementSteps(ctx, sf)
	if err != nil {
		return nil, fmt.Errorf("report: engagement: %w", err)
	}
	links, err := s.st.EngagementLinks(ctx, sf)
	if err != nil {
		return nil, fmt.Errorf("report: engagement: %w", err)
	}
	byKey := map[string][]Link{}
	for _, l := range links {
		byKey[l.StepKey] = append(byKey[l.StepKey], Link{URL: l.URL, Text: l.Text, Honeypot: l.Honeypot,
			Clicks: Count{Raw: l.Clicks, Counted: l.ClicksCounted}})
	}
	steps := make([]Step, 0, len(rows))
	for _, r := range rows {
		steps = append(steps, step(r, byKey[r.StepKey]))
	}
	return &Engagement{Filter: f, Sequences: s.group(steps)}, nil
}

func step(r store.StepEngagement, links []Link) Step {
	_, slug, _ := strings.Cut(r.StepKey, "/")
	return Step{
		Key: r.StepKey, Slug: slug, Sent: r.Sent,
		Opens:    Count{Raw: r.Opens, Counted: r.OpensCounted},
		Clicks:   Count{Raw: r.Clicks, Counted: r.ClicksCounted},
		Openers:  r.Openers,
		Clickers: r.Clickers,
		Verdicts: Verdicts{Human: r.Human, ImageProxy: r.ImageProxy, AppleMPP: r.AppleMPP, Scanner: r.Scanner, Prefetch: r.Prefetch},
		Links:    links,
	}
}

// group puts the steps under their sequences, each in the campaigns'
// order, the steps the campaigns no longer have after those they have.
func (s *Service) group(steps []Step) []Sequence {
	keys := s.steps()
	rank := make(map[string]int, len(keys)) // a step's key, and a sequence's name + "/"
	for i, k := range keys {
		rank[k] = i
		if _, ok := rank[sequenceOf(k)+"/"]; !ok {
			rank[sequenceOf(k)+"/"] = i
		}
	}
	at := func(k string) int {
		if i, ok := rank[k]; ok {
			return i
		}
		return len(keys)
	}
	slices.SortStableFunc(steps, func(a, b Step) int {
		sa, sb := sequenceOf(a.Key), sequenceOf(b.Key)
		return cmp.Or(cmp.Compare(at(sa+"/"), at(sb+"/")), strings.Compare(sa, sb),
			cmp.Compare(at(a.Key), at(b.Key)), strings.Compare(a.Key, b.Key))
	})
	out := []Sequence{}
	for _, st := range steps {
		name := sequenceOf(st.Key)
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, Sequence{Name: name})
		}
		out[len(out)-1].Steps = append(out[len(out)-1].Steps, st)
	}
	return out
}

func sequenceOf(key string) string {
	seq, _, _ := strings.Cut(key, "/")
	return seq
}
