package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nurture/nurture/internal/handoff"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// Sales is the handoff to sales as the HTTP surface uses it;
// *handoff.Service is one.
type Sales interface {
	Handoffs(ctx context.Context, owner, status string) ([]store.HandoffLead, error)
	Decide(ctx context.Context, leadID int64, d handoff.Decision) (handoff.Result, error)
	CheckLink(ctx context.Context, a handoff.Action, tok string) (handoff.LinkView, error)
	DecideLink(ctx context.Context, a handoff.Action, tok, reason string) (handoff.Result, error)
}

// handoffRoutes are the sales API of handoffs and decisions (see
// salesRoutes for their token).
func (s *Server) handoffRoutes() []route {
	if s.cfg.Sales == nil {
		return nil
	}
	return []route{
		{"GET", "/api/v1/handoffs", s.listHandoffs, true},
		{"POST", "/api/v1/leads/{ref}/accept", s.decideAPI(handoff.Accept), true},
		{"POST", "/api/v1/leads/{ref}/reject", s.decideAPI(handoff.Reject), true},
		{"POST", "/api/v1/leads/{ref}/qualify", s.decideAPI(handoff.Qualify), true},
	}
}

// salesPageRoutes are the pages of the owners' action links, whose signed
// token is their key.
func (s *Server) salesPageRoutes() []route {
	if s.cfg.Sales == nil {
		return nil
	}
	return []route{
		{"GET", "/sales/{action}/{token}", s.salesPage, false},
		{"POST", "/sales/{action}/{token}", s.salesAct, false},
	}
}

// sales lets through a request with the sales token or the admin token.
func (s *Server) sales(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		ok := strings.EqualFold(scheme, "Bearer") && got != "" &&
			(tokenIs(got, s.cfg.SalesToken) || tokenIs(got, s.cfg.AdminToken))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="nurture"`)
			writeError(w, errUnauthorized)
			return
		}
		h(w, r)
	}
}

func tokenIs(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// handoffJSON is one handoff in GET /api/v1/handoffs.
type handoffJSON struct {
	ID              int64       `json:"id"`
	Lead            handoffLead `json:"lead"`
	Owner           string      `json:"owner"`
	Status          string      `json:"status"`
	Reason          string      `json:"reason,omitempty"`
	Score           int         `json:"score"`
	Fit             int         `json:"fit"`
	Engagement      int         `json:"engagement"`
	CreatedAt       time.Time   `json:"created_at"`
	DecidedAt       *time.Time  `json:"decided_at,omitempty"`
	DecidedBy       string      `json:"decided_by,omitempty"`
	Webhook         string      `json:"webhook"`
	WebhookAttempts int         `json:"webhook_attempts"`
}

type handoffLead struct {
	ID    int64      `json:"id"`
	Email string     `json:"email"`
	Name  string     `json:"name,omitempty"`
	Stage lead.Stage `json:"stage"`
}

// decisionJSON is what POST /api/v1/leads/{ref}/accept, /reject and
// /qualify answer.
type decisionJSON struct {
	Lead     int64      `json:"lead"`
	Handoff  int64      `json:"handoff"`
	Action   string     `json:"action"`
	Status   string     `json:"status"`
	From     lead.Stage `json:"from"`
	Stage    lead.Stage `json:"stage"`
	Reason   string     `json:"reason,omitempty"`
	Enrolled int        `json:"enrolled"`
}

func (s *Server) listHandoffs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if o := q.Get("owner"); !utf8.ValidString(o) || strings.ContainsRune(o, 0) {
		s.apiError(w, r, badRequest("owner must be an address such as anna@sales.example"))
		return
	}
	hs, err := s.cfg.Sales.Handoffs(r.Context(), q.Get("owner"), q.Get("status"))
	if err != nil {
		s.salesError(w, r, err)
		return
	}
	out := make([]handoffJSON, 0, len(hs))
	for _, h := range hs {
		out = append(out, handoffJSON{
			ID: h.ID, Owner: h.Owner, Status: h.Status, Reason: h.Reason,
			Lead:  handoffLead{ID: h.LeadID, Email: h.Email, Name: strings.TrimSpace(h.FirstName + " " + h.LastName), Stage: h.Stage},
			Score: h.Score, Fit: h.Fit, Engagement: h.Engagement, CreatedAt: h.CreatedAt,
			DecidedAt: h.DecidedAt, DecidedBy: h.DecidedBy, Webhook: h.Webhook, WebhookAttempts: h.WebhookAttempts,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"handoffs": out})
}

func (s *Server) decideAPI(a handoff.Action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := handoff.Decision{Action: a, Actor: "api"}
		if a == handoff.Reject {
			var in struct {
				Reason string `json:"reason"`
			}
			if err := readBody(r, &in, `{"reason": "no_budget"}`); err != nil {
				s.apiError(w, r, err)
				return
			}
			d.Reason = in.Reason
		}
		l, err := s.optin.Lookup(r.Context(), r.PathValue("ref"))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		res, err := s.cfg.Sales.Decide(r.Context(), l.ID, d)
		if err != nil {
			s.salesError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, decisionJSON{
			Lead: res.Lead, Handoff: res.Handoff, Action: string(res.Action), Status: res.Status,
			From: res.From, Stage: res.Stage, Reason: res.Reason, Enrolled: res.Enrolled,
		})
	}
}

// salesError answers the sales API's own outcomes, and the rest as every
// API error.
func (s *Server) salesError(w http.ResponseWriter, r *http.Request, err error) {
	var ce *handoff.ConflictError
	var re *handoff.ReasonError
	switch {
	case errors.As(err, &ce):
		writeJSON(w, http.StatusConflict, map[string]any{"error": ce.Error(), "stage": ce.Stage, "handoff_status": ce.Status})
	case errors.As(err, &re):
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": re.Error(), "allowed": re.Allowed})
	case errors.Is(err, handoff.ErrBadStatus):
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": handoff.ErrBadStatus.Error()})
	default:
		s.apiError(w, r, err)
	}
}
