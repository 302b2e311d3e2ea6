package dispatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
)

// Why enrolments end.
const (
	reasonRemoved     = "sequence removed"
	reasonNotMailable = "lead not confirmed"
	reasonSuppressed  = "address suppressed"
	reasonStage       = "exit: stage "
	reasonEvent       = "exit: event "
	reasonClick       = "exit: clicked "
	reasonDone        = "all steps passed"
)

// renderRetry is how long an enrolment waits after its step failed to
// render (a template error that `campaigns check` should have caught).
const renderRetry = time.Hour

// decide handles one claimed enrolment: stop, exit, skip steps whose
// condition is false, wait for the delay or the window, or send the next
// step and schedule the one after it.
func (d *Dispatcher) decide(e *store.Due, set *campaign.Set, rows []store.Fact, now time.Time) (store.Outcome, *draft) {
	out := store.Outcome{ID: e.EnrolmentID, State: lead.EnrolmentActive, StepsDone: e.StepsDone, LastOrder: e.LastOrder, DueAt: e.DueAt}
	end := func(state, reason string) (store.Outcome, *draft) {
		out.State, out.Reason = state, reason
		return out, nil
	}
	p := set.Sequence(e.Sequence)
	switch {
	case p == nil:
		return end(lead.EnrolmentStopped, reasonRemoved)
	case !e.Status.Mailable():
		return end(lead.EnrolmentStopped, reasonNotMailable)
	case e.Suppressed:
		return end(lead.EnrolmentStopped, reasonSuppressed)
	}
	f := &facts{lead: &e.Lead, now: now, since: e.EnrolledAt, rows: rows}
	if reason := exitReason(p.Exit, f); reason != "" {
		return end(lead.EnrolmentExited, reason)
	}
	loc := p.Location(&e.Lead, d.cfg.DefaultZone)
	base := e.EnrolledAt
	if e.LastPassedAt != nil {
		base = *e.LastPassedAt
	}
	done := slices.Clone([]string(e.StepsDone))
	for i := nextIndex(p, done, e.LastOrder); ; i = nextIndex(p, done, out.LastOrder) {
		if i >= len(p.Steps) {
			out.StepsDone = done
			return end(lead.EnrolmentCompleted, reasonDone)
		}
		st := p.Steps[i]
		at := d.sendAt(p, st, base, loc, now)
		if at.After(now) {
			out.StepsDone, out.DueAt = done, at
			return out, nil
		}
		send, err := st.Eval(f)
		if err != nil {
			d.log.Error("dispatch: condition failed; step skipped", "step", st.Key(), "lead", e.ID, "err", err)
		}
		if err != nil || !send {
			// The next step waits its delay from the moment this one was
			// due, as if it had been sent: the timeline holds either way.
			done, out.LastOrder, base = append(done, st.Slug), st.Number, at
			out.PassedAt = &at
			continue
		}
		retry := out
		retry.StepsDone, retry.DueAt = slices.Clone(done), now.Add(renderRetry)
		msg, err := d.mail(e, st, now)
		if err != nil {
			d.log.Error("dispatch: step does not render; will retry", "step", st.Key(), "lead", e.ID, "err", err)
			return retry, nil
		}
		msg.retry = retry
		done, out.LastOrder = append(done, st.Slug), st.Number
		out.StepsDone, out.SentAt, out.PassedAt = done, &now, &now
		j := nextIndex(p, done, out.LastOrder)
		if j >= len(p.Steps) {
			out.State, out.Reason = lead.EnrolmentCompleted, reasonDone
			return out, msg
		}
		out.DueAt = d.sendAt(p, p.Steps[j], now, loc, now)
		return out, msg
	}
}

// nextIndex is the index of the step a lead goes on with, or len(p.Steps)
// when the sequence is done for it. done are the slugs the lead passed in
// this enrolment (sent, or skipped for a false condition), in the order it
// passed them, and lastOrder is the number the last of them had then. The
// lead goes on after the step it passed last, so a step inserted before
// that point is never sent to it; when that step is gone (deleted or
// renamed), with the first step numbered above lastOrder. Steps it passed
// already are skipped, wherever they moved.
func nextIndex(p *campaign.Sequence, done []string, lastOrder int) int {
	from := 0
	if len(done) > 0 {
		last := done[len(done)-1]
		if i := slices.IndexFunc(p.Steps, func(st *campaign.Step) bool { return st.Slug == last }); i >= 0 {
			from = i + 1
		} else if from = slices.IndexFunc(p.Steps, func(st *campaign.Step) bool { return st.Number > lastOrder }); from < 0 {
			return len(p.Steps)
		}
	}
	for i := from; i < len(p.Steps); i++ {
		if !slices.Contains(done, p.Steps[i].Slug) {
			return i
		}
	}
	return len(p.Steps)
}

// sendAt is when a step whose wait starts at base may go out: after its
// delay, at the next opening of its send window (its own or the
// sequence's); and never before now's window, should the dispatcher have
// fallen behind.
func (d *Dispatcher) sendAt(p *campaign.Sequence, st *campaign.Step, base time.Time, loc *time.Location, now time.Time) time.Time {
	if d.cfg.Fast {
		wait := time.Duration(st.Delay.Days)*24*time.Hour + st.Delay.Time
		return base.Add(wait / FastFactor)
	}
	at := st.Delay.After(base, loc)
	if at.Before(now) {
		at = now
	}
	return p.WindowOf(st).Next(at, loc)
}

// exitReason returns why the exit conditions end the enrolment, or "".
// Events and clicks count when they last happened since the enrolment's
// start.
func exitReason(x campaign.Exit, f *facts) string {
	if x.OnStage(f.lead.Stage) {
		return reasonStage + string(f.lead.Stage)
	}
	for _, r := range f.rows {
		switch {
		case !f.recent(r):
		case r.Kind == store.FactEvent && x.OnEvent(r.Key):
			return reasonEvent + r.Key
		case clickedURL(r) != "" && x.OnClick(clickedURL(r)):
			return reasonClick + clickedURL(r)
		}
	}
	return ""
}

// mail renders one step for one lead, for compose to finish.
func (d *Dispatcher) mail(e *store.Due, st *campaign.Step, now time.Time) (*draft, error) {
	l := &e.Lead
	tracked := d.tracked(l)
	msg, _, err := d.stepMail.mail(st, l, mailer.NewMessageID(d.domain), now, tracked)
	if err != nil {
		return nil, err
	}
	return &draft{msg: msg, tracked: tracked, step: &store.StepMessage{
		LeadID: l.ID, EnrolmentID: e.EnrolmentID, StepKey: st.Key(), MessageID: msg.MessageID,
		From: d.envFrom, To: l.Email,
	}}, nil
}

// Recompose composes a step mail again (see Recomposer).
func (d *Dispatcher) Recompose(ctx context.Context, m store.Claimed) ([]byte, error) {
	return d.again.Recompose(ctx, m)
}

// Recomposer composes a step mail again from its step and lead, with its
// Message-ID and date: the relay asks for it when a dispatcher died
// between writing a mail leased, without its bytes, and handing it over.
// It needs no dispatcher, so the relay can be built before one.
type Recomposer struct {
	// Leads are the leads and the tracked mails' links; *store.Store is one.
	Leads interface {
		LeadByID(ctx context.Context, id int64) (*store.LeadRow, error)
		LinkSetOf(ctx context.Context, messageID int64) (int64, store.LinkSet, error)
		Relink(ctx context.Context, messageID int64, set store.LinkSet) (int64, error)
	}
	Set      func() *campaign.Set // the campaigns live now
	StepMail *StepMail
}

// Recompose composes m again. A step that is gone since is not sent:
// enrolled leads skip deleted steps. A mail is tracked again exactly when
// it was tracked when queued (it has a set of links), whatever the lead's
// consent says since, so that the same step gives the same bytes; should
// the step have been edited since, its set of links becomes the new one,
// as no one saw the first.
func (r *Recomposer) Recompose(ctx context.Context, m store.Claimed) ([]byte, error) {
	if m.Kind != "step" || m.LeadID == nil {
		return nil, fmt.Errorf("dispatch: message %d is not a step mail", m.ID)
	}
	set := r.Set()
	if set == nil {
		set = &campaign.Set{}
	}
	st := set.Step(m.StepKey)
	if st == nil {
		return nil, fmt.Errorf("dispatch: step %s no longer exists", m.StepKey)
	}
	l, err := r.Leads.LeadByID(ctx, *m.LeadID)
	if err != nil {
		return nil, fmt.Errorf("dispatch: recompose: %w", err)
	}
	// The score as the first composing read it, decayed to its time, so
	// that the mail comes out as it did (unless scoring wrote it since).
	if set.Scoring != nil {
		set.Scoring.Current(&l.Lead, m.CreatedAt)
	}
	_, stored, err := r.Leads.LinkSetOf(ctx, m.ID)
	if errors.Is(err, store.ErrNotFound) {
		return r.StepMail.Compose(st, &l.Lead, m.MessageID, m.CreatedAt)
	}
	if err != nil {
		return nil, fmt.Errorf("dispatch: recompose: %w", err)
	}
	raw, links, err := r.StepMail.ComposeTracked(st, &l.Lead, m.MessageID, m.CreatedAt, m.ID)
	if err != nil {
		return nil, err
	}
	if old, err := stored.Targets(); err != nil || !slices.Equal(old, links) {
		if _, err := r.Leads.Relink(ctx, m.ID, store.NewLinkSet(links)); err != nil {
			return nil, fmt.Errorf("dispatch: recompose: %w", err)
		}
	}
	return raw, nil
}

var _ campaign.Facts = (*facts)(nil)
