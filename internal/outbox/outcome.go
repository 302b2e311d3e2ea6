package outbox

import (
	"context"
	"errors"
	"time"

	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
)

// prepare readies m for SMTP: a suppressed recipient gets nothing, and a
// step mail whose bytes were never stored (its producer died before
// handing it over, or the relay that held it released it) is composed
// again.
func (r *Relay) prepare(ctx context.Context, m *store.Claimed) error {
	if m.Suppressed {
		return errSuppressed
	}
	if m.Raw == nil {
		if r.cfg.Recompose == nil {
			return unsendable{errors.New("its bytes were never stored and nothing can compose it again")}
		}
		raw, err := r.cfg.Recompose(ctx, *m)
		if err != nil {
			return unsendable{err}
		}
		m.Raw = raw
	}
	return nil
}

var errSuppressed = errors.New("recipient is on the suppression list")

// unsendable is a mail that cannot be sent at all, such as a step mail
// whose step was deleted before it could be composed again.
type unsendable struct{ err error }

func (u unsendable) Error() string { return "cannot be sent: " + u.err.Error() }
func (u unsendable) Unwrap() error { return u.err }

// fail writes the outcome of a mail that was not sent.
func (r *Relay) fail(ctx context.Context, m store.Claimed, err error) error {
	reply := err.Error()
	log := r.log.With("message", m.ID, "kind", m.Kind, "attempt", m.Attempts)
	switch {
	case errors.As(err, new(unsendable)):
		r.count(func(s *Stats) { s.Failed++ })
		log.Error("outbox: giving up", "reason", reply)
		return r.store.MarkFailed(ctx, m.ID, reply)
	case errors.Is(err, errSuppressed):
		r.count(func(s *Stats) { s.Suppressed++ })
		log.Info("outbox: suppressed, not sent")
		return r.store.MarkFailed(ctx, m.ID, "suppressed")
	case mailer.Permanent(err):
		r.count(func(s *Stats) { s.Bounced++ })
		log.Warn("outbox: permanent failure, lead bounced", "reply", reply)
		return r.store.Bounce(ctx, m.ID, m.LeadID, reply, r.now())
	case errors.Is(err, mailer.ErrNoReply):
		// The server may have taken it: it goes again at once, and counts
		// as a possible repeat when it is claimed.
		r.count(func(s *Stats) { s.Retried++; s.NoReply++ })
		log.Warn("outbox: no reply to the data, sending again; counted as a possible repeat", "err", reply)
		return r.store.MarkRetry(ctx, m.ID, r.now(), reply, m.Raw, false, true)
	case !refusal(err):
		// The server could not be reached (a Drain; a running relay pauses
		// instead): no fault of the message, so no attempt is used up,
		// however long the outage lasts.
		r.count(func(s *Stats) { s.Retried++ })
		next := r.now().Add(OutageBackoff(m.Attempts - m.Refusals))
		log.Warn("outbox: SMTP unavailable, will retry", "err", reply, "at", next)
		return r.store.MarkRetry(ctx, m.ID, next, reply, m.Raw, false, false)
	case m.Refusals+1 >= r.cfg.MaxAttempts:
		r.count(func(s *Stats) { s.Failed++ })
		log.Error("outbox: giving up after temporary failures", "reply", reply)
		return r.store.MarkFailed(ctx, m.ID, reply)
	default:
		r.count(func(s *Stats) { s.Retried++ })
		next := r.now().Add(r.cfg.Backoff(m.Refusals + 1))
		log.Warn("outbox: temporary failure, will retry", "reply", reply, "at", next)
		return r.store.MarkRetry(ctx, m.ID, next, reply, m.Raw, true, false)
	}
}

// refusal reports whether err is the server's answer (a 4xx reply), as
// opposed to a server that could not be reached or a connection that
// broke.
func refusal(err error) bool {
	return !errors.Is(err, mailer.ErrUnavailable) && !errors.Is(err, mailer.ErrClosed)
}

// persist runs a write until it succeeds: the mail it records stays the
// relay's until then, and is never left under the relay's claim unsent.
// While the database is away it tries every recordRetry; once the relay
// stops, for stopBudget more at most.
func (r *Relay) persist(ctx context.Context, p *pipeline, write func(context.Context) error) {
	var giveUp time.Time
	for {
		err := write(ctx)
		if err == nil {
			return
		}
		p.keep(err)
		if isClosed(p.closing) {
			if giveUp.IsZero() {
				giveUp = time.Now().Add(stopBudget)
			} else if time.Now().After(giveUp) {
				return
			}
		}
		time.Sleep(recordRetry)
	}
}
