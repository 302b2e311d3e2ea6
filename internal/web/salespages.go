package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/nurture/nurture/internal/handoff"
)

var actionWords = map[handoff.Action]struct{ title, button, done string }{
	handoff.Accept:  {"Accept this lead", "Accept: I take it", "Accepted"},
	handoff.Reject:  {"Reject this lead", "Reject and recycle", "Rejected"},
	handoff.Qualify: {"Qualify this lead", "Qualify: it is a sales qualified lead", "Qualified"},
}

// salesPage is an action link's GET: it shows the lead and a button, and
// changes nothing, since link scanners follow every GET.
func (s *Server) salesPage(w http.ResponseWriter, r *http.Request) {
	a, err := handoff.ParseAction(r.PathValue("action"))
	var v handoff.LinkView
	if err == nil {
		v, err = s.cfg.Sales.CheckLink(r.Context(), a, r.PathValue("token"))
	}
	if err != nil {
		s.salesFail(w, r, err)
		return
	}
	s.linkPage(w, http.StatusOK, a, v)
}

// linkPage shows the lead of an action link with the action's button, or,
// when the action does not fit the handoff, why, and the link of the
// action that comes first.
func (s *Server) linkPage(w http.ResponseWriter, status int, a handoff.Action, v handoff.LinkView) {
	h := v.Handoff
	allowed := handoff.Allows(a, h.Status, h.Stage)
	why := v.Why
	if !allowed && why == "" {
		why, _ = handoff.Advice(a, h.Status, h.Stage)
	}
	next, nextTitle := "", ""
	if !allowed && v.Next != "" {
		next, nextTitle = v.Next, actionWords[v.Then].title
	}
	s.page(w, status, "handoff.html", map[string]any{
		"Title": actionWords[a].title, "Button": actionWords[a].button, "Action": string(a), "Token": v.Token,
		"Name": strings.TrimSpace(h.FirstName + " " + h.LastName), "Email": h.Email,
		"Score": h.Score, "Fit": h.Fit, "Engagement": h.Engagement, "Stage": h.Stage, "Status": h.Status, "Owner": h.Owner,
		"Reasons": v.Reasons, "Allowed": allowed, "Why": why, "Next": next, "NextTitle": nextTitle,
	})
}

// salesAct is the page's button: it acts as the handoff's owner.
func (s *Server) salesAct(w http.ResponseWriter, r *http.Request) {
	a, err := handoff.ParseAction(r.PathValue("action"))
	var res handoff.Result
	if err == nil {
		res, err = s.cfg.Sales.DecideLink(r.Context(), a, r.PathValue("token"), r.PostFormValue("reason"))
	}
	if err != nil {
		s.salesFail(w, r, err)
		return
	}
	s.page(w, http.StatusOK, "handoff-done.html", map[string]any{
		"Title": actionWords[a].done, "Email": res.Email, "Stage": res.Stage, "Reason": res.Reason, "Enrolled": res.Enrolled,
	})
}

// salesFail renders an action link's failure as a page.
func (s *Server) salesFail(w http.ResponseWriter, r *http.Request, err error) {
	var ce *handoff.ConflictError
	var re *handoff.ReasonError
	switch {
	case errors.Is(err, handoff.ErrInvalidLink):
		s.page(w, http.StatusNotFound, "notfound.html", nil)
	case errors.Is(err, handoff.ErrLinkExpired):
		s.page(w, http.StatusGone, "error.html", map[string]any{"Status": http.StatusGone,
			"Message": "This link has expired. The next digest mail brings fresh links, or use the sales API."})
	case errors.As(err, &ce):
		// The page of the link again, now saying why it did not act.
		if a, aerr := handoff.ParseAction(r.PathValue("action")); aerr == nil {
			if v, verr := s.cfg.Sales.CheckLink(r.Context(), a, r.PathValue("token")); verr == nil {
				s.linkPage(w, http.StatusConflict, a, v)
				return
			}
		}
		s.page(w, http.StatusConflict, "error.html", map[string]any{"Status": http.StatusConflict, "Message": ce.ForPerson()})
	case errors.As(err, &re):
		s.page(w, http.StatusBadRequest, "error.html", map[string]any{"Status": http.StatusBadRequest, "Message": re.Error()})
	default:
		s.fail(w, r, err)
	}
}
