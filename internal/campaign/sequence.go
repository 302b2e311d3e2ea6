package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nurture/nurture/internal/condition"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/schedule"
)

// Sequence is one folder of the campaign files: a trigger, its rules and
// its steps in order.
type Sequence struct {
	// ID is the folder's name. It is the sequence's identity: enrolments
	// and step keys refer to it.
	ID string
	// Name is the human name from the front matter; the ID when not given.
	Name        string
	Description string
	Trigger     Trigger
	Exit        Exit
	Window      schedule.Window // zero: any time
	Timezone    string          // "lead" or an IANA zone name
	Reenroll    bool
	Steps       []*Step
	Path        string         // of sequence.md
	Lines       map[string]int // front-matter key → line
	// Version changes whenever sequence.md does.
	Version string

	loc *time.Location // when Timezone names a zone
}

// Step returns the step with a slug, or nil.
func (q *Sequence) Step(slug string) *Step {
	for _, st := range q.Steps {
		if st.Slug == slug {
			return st
		}
	}
	return nil
}

// WindowOf returns the send window step st goes out in: its own, if it
// has one, else the sequence's.
func (q *Sequence) WindowOf(st *Step) schedule.Window {
	if st.Window != nil {
		return *st.Window
	}
	return q.Window
}

// Location returns the zone the sequence's window and delays use for a
// lead: the sequence's fixed zone, or with "timezone: lead" the lead's own
// zone (attribute timezone), falling back to fallback.
func (q *Sequence) Location(l *lead.Lead, fallback *time.Location) *time.Location {
	if q.loc != nil {
		return q.loc
	}
	if l != nil {
		if loc := loadLocation(l.Timezone()); loc != nil {
			return loc
		}
	}
	if fallback == nil {
		return time.UTC
	}
	return fallback
}

var locations sync.Map // zone name → *time.Location, or nil when unknown

// loadLocation is time.LoadLocation with a cache, since it reads the zone
// database on every call. It returns nil for unknown zones.
func loadLocation(name string) *time.Location {
	if name == "" || name == "Local" {
		return nil
	}
	if v, ok := locations.Load(name); ok {
		loc, _ := v.(*time.Location)
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	locations.Store(name, loc)
	return loc
}

// TriggerKind says what enrols a lead in a sequence.
type TriggerKind string

const (
	TriggerConfirmed TriggerKind = "confirmed" // the lead confirmed its address
	TriggerEvent     TriggerKind = "event"     // the lead produced an event
	TriggerStage     TriggerKind = "stage"     // the lead reached a stage
	TriggerManual    TriggerKind = "manual"    // only enrolment by API
	TriggerRecycled  TriggerKind = "recycled"  // sales rejected the lead, which went back to stage lead
)

// Trigger is when a lead is enrolled.
type Trigger struct {
	Kind    TriggerKind
	Sources []string   // confirmed: only leads from these sources; empty means any
	Event   string     // event: the event's type
	Stage   lead.Stage // stage: the stage reached
}

// OnConfirmed reports whether confirming an address with a signup from
// source enrols the lead.
func (t Trigger) OnConfirmed(source string) bool {
	return t.Kind == TriggerConfirmed && (len(t.Sources) == 0 || containsFold(t.Sources, source))
}

// OnEvent reports whether an event of this type enrols the lead; like
// exits, it does not mind capitals.
func (t Trigger) OnEvent(typ string) bool {
	return t.Kind == TriggerEvent && strings.EqualFold(t.Event, typ)
}

// OnRecycled reports whether a lead that sales rejected and sent back to
// stage lead is enrolled.
func (t Trigger) OnRecycled() bool { return t.Kind == TriggerRecycled }

// OnStage reports whether reaching stage enrols the lead.
func (t Trigger) OnStage(s lead.Stage) bool { return t.Kind == TriggerStage && t.Stage == s }

func (t Trigger) String() string {
	switch t.Kind {
	case TriggerConfirmed:
		if len(t.Sources) > 0 {
			return "confirmed, from " + strings.Join(t.Sources, ", ")
		}
		return "confirmed"
	case TriggerEvent:
		return "event " + t.Event
	case TriggerStage:
		return "stage " + string(t.Stage)
	}
	return string(t.Kind)
}

// Exit lists what ends an enrolment early, besides unsubscribing and
// bouncing, which always do.
type Exit struct {
	Stages      []lead.Stage // reaching one of these stages or a later one
	Events      []string     // producing one of these events
	ClickedURLs []string     // clicking a link matching one of these patterns (see MatchURL)
}

// OnStage reports whether a lead now at stage s leaves: stages count in
// funnel order, so exit on sal also lets a lead that jumps to sql leave.
func (e Exit) OnStage(s lead.Stage) bool {
	r := s.Rank()
	if r < 0 {
		return false
	}
	for _, x := range e.Stages {
		if r >= x.Rank() {
			return true
		}
	}
	return false
}

// OnEvent reports whether an event of this type ends the enrolment.
func (e Exit) OnEvent(typ string) bool { return containsFold(e.Events, typ) }

// OnClick reports whether a click on url ends the enrolment.
func (e Exit) OnClick(url string) bool {
	for _, p := range e.ClickedURLs {
		if condition.MatchURL(p, url) {
			return true
		}
	}
	return false
}

func (e Exit) String() string {
	var parts []string
	for _, s := range e.Stages {
		parts = append(parts, "stage "+string(s))
	}
	for _, ev := range e.Events {
		parts = append(parts, "event "+ev)
	}
	for _, u := range e.ClickedURLs {
		parts = append(parts, "click on "+u)
	}
	parts = append(parts, "unsubscribe", "bounce")
	return strings.Join(parts, ", ")
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func parseStage(s string) (lead.Stage, error) {
	st := lead.Stage(strings.ToLower(strings.TrimSpace(s)))
	if !st.Valid() {
		return "", fmt.Errorf("%q is not a stage: use %s", s, lead.StageNames())
	}
	return st, nil
}

// version is a short fingerprint of a file's content.
func version(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}
