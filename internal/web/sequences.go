package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"

	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// Sequences is the sequence engine as the admin API uses it;
// *dispatch.Dispatcher is one.
type Sequences interface {
	RecordEvent(ctx context.Context, leadID int64, typ string) (int, error)
	SetStage(ctx context.Context, leadID int64, stage lead.Stage) (dispatch.StageChange, error)
	Enrol(ctx context.Context, sequence string, leadID int64) (store.Enrolment, error)
}

// eventType is one word such as demo_booked.
var eventType = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

func (s *Server) sequenceRoutes() []route {
	if s.cfg.Sequences == nil {
		return nil
	}
	return []route{
		{"POST", "/api/v1/leads/{ref}/events", s.postEvent, true},
		{"PUT", "/api/v1/leads/{ref}/stage", s.putStage, true},
		{"POST", "/api/v1/sequences/{sequence}/enrolments", s.postEnrolment, true},
	}
}

// postEvent records a custom event, such as demo_booked, and enrols the
// lead in the sequences it triggers.
func (s *Server) postEvent(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Type string `json:"type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || !eventType.MatchString(in.Type) {
		s.apiError(w, r, fmt.Errorf("%w: send {\"type\": \"demo_booked\"}; a type is one word", errBadRequest))
		return
	}
	d, err := s.optin.Lookup(r.Context(), r.PathValue("ref"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	n, err := s.cfg.Sequences.RecordEvent(r.Context(), d.ID, in.Type)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"lead": d.ID, "type": in.Type, "enrolled": n})
}

// putStage moves a lead to a stage of the funnel, such as mql: it enrols
// the lead in the sequences the stage triggers and ends those it exits.
func (s *Server) putStage(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Stage *string `json:"stage"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Stage == nil {
		s.apiError(w, r, fmt.Errorf("%w: send {\"stage\": \"mql\"}", errBadRequest))
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
	writeJSON(w, http.StatusOK, c)
}

// postEnrolment enrols a lead, by id or address, in a sequence by hand.
func (s *Server) postEnrolment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Lead json.RawMessage `json:"lead"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Lead) == 0 {
		s.apiError(w, r, fmt.Errorf("%w: send {\"lead\": 42} or {\"lead\": \"anna@example.com\"}", errBadRequest))
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
	writeJSON(w, http.StatusCreated, e)
}
