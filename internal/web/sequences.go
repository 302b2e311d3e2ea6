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

// putStage moves a lead to a stage of the funnel, such as mql: it enrols
// the lead in the sequences the stage triggers and ends those it exits.
func (s *Server) putStage(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Stage *string `json:"stage"`
	}
	err := readBody(r, &in, `{"stage": "mql"}`)
	if err == nil && in.Stage == nil {
		err = badRequest(`send {"stage": "mql"}`)
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	d, err := s.optin.Lookup(r.Context(), r.PathValue("ref"))
	if err != nil {
		s.apiError(w, r, err)
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
	err := readBody(r, &in, example)
	if err == nil && len(in.Lead) == 0 {
		err = badRequest("send " + example)
	}
	if err != nil {
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
