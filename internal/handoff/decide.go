package handoff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// ConflictError is an action the lead's handoff or stage does not allow,
// such as qualifying a lead sales has not accepted: a 409.
type ConflictError struct {
	Lead   int64
	Action Action
	Stage  lead.Stage
	Status string // the handoff's; "" when the lead has none live
}

func (e *ConflictError) Error() string {
	need := map[Action]string{
		Accept:  "an open handoff of a lead at stage mql",
		Reject:  "an open or accepted handoff of a lead at stage mql or sal",
		Qualify: "an accepted handoff of a lead at stage sal",
	}[e.Action]
	has := "no open or accepted handoff"
	if e.Status != "" {
		has = "a handoff that is " + e.Status
	}
	return fmt.Sprintf("lead %d is at stage %s with %s; %s needs %s", e.Lead, e.Stage, has, e.Action, need)
}

// ReasonError is a rejection whose reason scoring.yaml does not list: a 400.
type ReasonError struct {
	Reason  string
	Allowed []string
}

func (e *ReasonError) Error() string {
	if len(e.Allowed) == 0 {
		return "rejecting needs handoff.reject_reasons in scoring.yaml, and it lists none"
	}
	what := fmt.Sprintf("%q is not a reject reason", e.Reason)
	if e.Reason == "" {
		what = "a rejection needs a reason"
	}
	return what + "; reason must be one of " + strings.Join(e.Allowed, ", ")
}

// Decision is one action of sales on a lead's handoff.
type Decision struct {
	Action Action
	Reason string // a rejection's, one of handoff.reject_reasons
	Actor  string // the owner's address (mail links) or "api"
}

// Result is what a decision did.
type Result struct {
	Handoff  int64      `json:"handoff"`
	Lead     int64      `json:"lead"`
	Email    string     `json:"email"`
	Action   Action     `json:"action"`
	Status   string     `json:"status"` // the handoff's, after
	From     lead.Stage `json:"from"`
	Stage    lead.Stage `json:"stage"`
	Reason   string     `json:"reason,omitempty"`
	Enrolled int        `json:"enrolled"` // in sequences the new stage (or recycled) triggers
}

// Decide applies a decision to the lead's live handoff (the sales API).
func (s *Service) Decide(ctx context.Context, leadID int64, d Decision) (Result, error) {
	if err := s.checkReason(d); err != nil {
		return Result{}, err
	}
	var res Result
	err := s.store.WithTx(ctx, func(tx *store.Tx) error {
		l, err := tx.Lead(ctx, leadID)
		if err != nil {
			return err
		}
		h, err := tx.LiveHandoffForUpdate(ctx, leadID)
		if errors.Is(err, store.ErrNotFound) {
			return &ConflictError{Lead: leadID, Action: d.Action, Stage: l.Stage}
		}
		if err != nil {
			return err
		}
		res, err = s.apply(ctx, tx, h, d, s.now())
		return err
	})
	return res, err
}

// LinkView is what an action link's page shows, without acting.
type LinkView struct {
	Action  Action
	Handoff store.HandoffLead
	Reasons []string // a reject link's choices
	Token   string
	// When the action does not fit the handoff: Why says so for a person,
	// and Next is the link of Then, the action that comes first or next;
	// "" for none.
	Why, Next string
	Then      Action
}

// CheckLink looks an action link up for the page that GET shows. It
// changes nothing: link scanners follow every GET.
func (s *Service) CheckLink(ctx context.Context, a Action, tok string) (LinkView, error) {
	id, err := s.verifyLink(a, tok, s.now())
	if err != nil {
		return LinkView{}, err
	}
	h, err := s.store.HandoffLead(ctx, id)
	if err != nil {
		return LinkView{}, err
	}
	v := LinkView{Action: a, Handoff: *h, Token: tok}
	if hr := s.handoffRules(); hr != nil {
		v.Reasons = hr.RejectReasons
	}
	if !Allows(a, h.Status, h.Stage) {
		var then Action
		v.Why, then = Advice(a, h.Status, h.Stage)
		if then != "" && Allows(then, h.Status, h.Stage) {
			v.Then, v.Next = then, s.linkURL(then, h.ID, s.now().Add(s.opts.LinkTTL))
		}
	}
	return v, nil
}

// DecideLink acts on an action link (its page's POST), as the handoff's
// owner.
func (s *Service) DecideLink(ctx context.Context, a Action, tok, reason string) (Result, error) {
	now := s.now()
	id, err := s.verifyLink(a, tok, now)
	if err != nil {
		return Result{}, err
	}
	var res Result
	err = s.store.WithTx(ctx, func(tx *store.Tx) error {
		h, err := tx.HandoffForUpdate(ctx, id)
		if err != nil {
			return err
		}
		d := Decision{Action: a, Reason: reason, Actor: h.Owner}
		if err := s.checkReason(d); err != nil {
			return err
		}
		res, err = s.apply(ctx, tx, h, d, now)
		return err
	})
	return res, err
}

func (s *Service) checkReason(d Decision) error {
	if d.Action != Reject {
		return nil
	}
	var allowed []string
	if hr := s.handoffRules(); hr != nil {
		allowed = hr.RejectReasons
	}
	if !slices.Contains(allowed, d.Reason) {
		return &ReasonError{Reason: d.Reason, Allowed: allowed}
	}
	return nil
}

// transitions are, for each action, the handoff statuses and stages it
// starts from, and where it leads.
var transitions = map[Action]struct {
	from   []string
	stages []lead.Stage
	status string
	to     lead.Stage
}{
	Accept:  {[]string{store.HandoffOpen}, []lead.Stage{lead.StageMQL}, store.HandoffAccepted, lead.StageSAL},
	Reject:  {[]string{store.HandoffOpen, store.HandoffAccepted}, []lead.Stage{lead.StageMQL, lead.StageSAL}, store.HandoffRejected, lead.StageLead},
	Qualify: {[]string{store.HandoffAccepted}, []lead.Stage{lead.StageSAL}, store.HandoffQualified, lead.StageSQL},
}

// apply makes the decision on the locked handoff h: the handoff's status,
// the lead's stage through Stages.Move (a stage_changes row naming the
// actor), and for a rejection the recycling with its trigger.
func (s *Service) apply(ctx context.Context, tx *store.Tx, h *store.Handoff, d Decision, now time.Time) (Result, error) {
	l, err := tx.Lead(ctx, h.LeadID)
	if err != nil {
		return Result{}, err
	}
	t := transitions[d.Action]
	if !Allows(d.Action, h.Status, l.Stage) {
		return Result{}, &ConflictError{Lead: h.LeadID, Action: d.Action, Stage: l.Stage, Status: h.Status}
	}
	if err := tx.DecideHandoff(ctx, h.ID, store.Decision{Status: t.status, Reason: d.Reason, By: d.Actor}, now); err != nil {
		return Result{}, err
	}
	why := "handoff " + string(d.Action)
	if d.Reason != "" {
		why += ": " + d.Reason
	}
	c, err := s.stages.Move(ctx, tx, h.LeadID, store.StageChange{To: t.to, Actor: d.Actor, Reason: why}, now)
	if err != nil {
		return Result{}, err
	}
	res := Result{Handoff: h.ID, Lead: h.LeadID, Email: l.Email, Action: d.Action, Status: t.status, From: c.From, Stage: t.to, Reason: d.Reason, Enrolled: c.Enrolled}
	if d.Action == Reject {
		if err := tx.RecycleLead(ctx, h.LeadID, now); err != nil {
			return Result{}, err
		}
		n, err := s.stages.OnRecycled(ctx, tx, h.LeadID, now)
		if err != nil {
			return Result{}, err
		}
		res.Enrolled += n
	}
	s.log.Info("handoff: decided", "handoff", h.ID, "lead", h.LeadID, "action", d.Action, "reason", d.Reason)
	return res, nil
}

// Handoffs lists handoffs, newest first: owner's (any when empty) in
// status (any when empty).
func (s *Service) Handoffs(ctx context.Context, owner, status string) ([]store.HandoffLead, error) {
	if status != "" && !slices.Contains([]string{store.HandoffOpen, store.HandoffAccepted, store.HandoffRejected, store.HandoffQualified, store.HandoffWithdrawn}, status) {
		return nil, ErrBadStatus
	}
	return s.store.Handoffs(ctx, store.HandoffFilter{Owner: owner, Status: status})
}

// ErrBadStatus is a status filter that is not a handoff status.
var ErrBadStatus = errors.New("status must be one of open, accepted, rejected, qualified, withdrawn")

// Allows reports whether action a may act on a handoff in status with its
// lead at stage, as Decide would judge it: the page of a link says so
// before anyone presses its button.
func Allows(a Action, status string, stage lead.Stage) bool {
	t, ok := transitions[a]
	return ok && slices.Contains(t.from, status) && slices.Contains(t.stages, stage)
}
