package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/optin"
)

// Sequences is the sequence engine as the admin API uses it (events go
// through Engagement);
// *dispatch.Dispatcher is one.
type Sequences interface {
	SetStage(ctx context.Context, leadID int64, stage lead.Stage) (dispatch.StageChange, error)
	Enrol(ctx context.Context, sequence string, leadID int64) (lead.Enrolment, error)
}

// eventType is one word such as demo_booked.
var eventType = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

func (s *Server) sequenceRoutes() []route {
	if s.cfg.Sequences == nil {
		return nil
	}
	return []route{
		{"PUT", "/api/v1/leads/{ref}/stage", s.putStage, true},
		{"POST", "/api/v1/sequences/{sequence}/enrolments", s.postEnrolment, true},
	}
}

// readBody decodes a JSON body into v. A malformed one, or one with a value
// of the wrong type, is a bad request that says what to send instead.
func readBody(r *http.Request, v any, example string) error {
	err := decodeJSON(r, v, false)
	var br badRequest
	var fe lead.FieldErrors
	switch {
	case errors.As(err, &br):
		return badRequest(br.Error() + "; send " + example)
	case errors.As(err, &fe):
		var parts []string
		for field, msg := range fe {
			parts = append(parts, field+" "+msg)
		}
		slices.Sort(parts)
		return badRequest(strings.Join(parts, "; ") + "; send " + example)
	}
	return err
}

// readFull is readBody for a body that must hold what complete looks for:
// without it the request is a bad request that says what to send.
func readFull(r *http.Request, v any, example string, complete func() bool) error {
	if err := readBody(r, v, example); err != nil {
		return err
	}
	if !complete() {
		return badRequest("send " + example)
	}
	return nil
}

// readForLead reads, as readFull does, the body of a request about the lead
// that {ref} names, and looks the lead up. On an error it answers the
// request and returns nil.
func (s *Server) readForLead(w http.ResponseWriter, r *http.Request, v any, example string, complete func() bool) *optin.Detail {
	err := readFull(r, v, example, complete)
	var d *optin.Detail
	if err == nil {
		d, err = s.optin.Lookup(r.Context(), r.PathValue("ref"))
	}
	if err != nil {
		s.apiError(w, r, err)
		return nil
	}
	return d
}

// putStage moves a lead to a stage of the funnel, such as mql: it enrols
// the lead in the sequences the stage triggers and ends those it exits.
func (s *Server) putStage(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Stage *string `json:"stage"`
	}
	d := s.readForLead(w, r, &in, `{"stage": "mql"}`, func() bool { return in.Stage != nil })
	if d == nil {
		return
	}
	c, err := s.cfg.Sequences.SetStage(r.Context(), d.ID, lead.Stage(*in.Stage))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, stageResponse{Lead: c.Lead, Stage: c.Stage, From: c.From, Enrolled: c.Enrolled, Exited: c.Exited})
}

// postEnrolment enrols a lead, by id or address, in a sequence by hand.
func (s *Server) postEnrolment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Lead json.RawMessage `json:"lead"`
	}
	const example = `{"lead": 42} or {"lead": "anna@example.com"}`
	if err := readFull(r, &in, example, func() bool { return len(in.Lead) > 0 }); err != nil {
		s.apiError(w, r, err)
		return
	}
	ref := string(in.Lead)
	var str string
	if json.Unmarshal(in.Lead, &str) == nil {
		ref = str
	}
	d, err := s.optin.Lookup(r.Context(), ref)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	e, err := s.cfg.Sequences.Enrol(r.Context(), r.PathValue("sequence"), d.ID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, enrolmentOf(e))
}

// stageResponse is the answer to PUT /api/v1/leads/{ref}/stage.
type stageResponse struct {
	Lead     int64      `json:"lead"`
	Stage    lead.Stage `json:"stage"`
	From     lead.Stage `json:"from"`
	Enrolled int        `json:"enrolled"` // in sequences triggered by the stage
	Exited   int        `json:"exited"`   // enrolments whose exit names the stage
}

// enrolmentResponse is an enrolment as the admin API shows it.
type enrolmentResponse struct {
	ID          int64      `json:"id"`
	LeadID      int64      `json:"lead_id"`
	Sequence    string     `json:"sequence"`
	State       string     `json:"state"`
	StepsDone   []string   `json:"steps_done"`
	LastOrder   int        `json:"last_order"`
	DueAt       time.Time  `json:"due_at"`
	EnrolledAt  time.Time  `json:"enrolled_at"`
	LastSentAt  *time.Time `json:"last_sent_at,omitempty"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	EndedReason string     `json:"ended_reason,omitempty"`
}

func enrolmentOf(e lead.Enrolment) enrolmentResponse {
	return enrolmentResponse{
		ID: e.ID, LeadID: e.LeadID, Sequence: e.Sequence, State: e.State, StepsDone: e.StepsDone,
		LastOrder: e.LastOrder, DueAt: e.DueAt, EnrolledAt: e.EnrolledAt, LastSentAt: e.LastSentAt,
		EndedAt: e.EndedAt, EndedReason: e.EndedReason,
	}
}
