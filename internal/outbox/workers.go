package outbox

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"

	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
)

// workers are the relay's SMTP connections at work: each takes a marked
// message from ready, hands it to SMTP, with whatever ready holds
// meanwhile behind it on the same connection, and reports the outcomes. Stop makes
// them take nothing more and cancels the waits before a transaction (for a
// connection, the rate limit, the end of an outage); a transaction under
// way runs to its end. Without Stop they end once ready has ended and is
// empty.
type workers struct {
	service
	r *Relay
	p *pipeline
	n int
}

// Start runs the workers; their sending outlives ctx.
func (w *workers) Start(ctx context.Context) {
	w.startWith(func(stop <-chan struct{}) {
		ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		var wg sync.WaitGroup
		for range w.n {
			wg.Go(func() { w.work(ctx, stop) })
		}
		all := make(chan struct{})
		go func() { wg.Wait(); close(all) }()
		select {
		case <-stop:
			cancel()
			<-all
		case <-all:
		}
	})
}

// wait waits until the workers ended by themselves.
func (w *workers) wait() { <-w.done }

func (w *workers) work(ctx context.Context, stop <-chan struct{}) {
	for {
		m, ok := w.p.ready.pop()
		if !ok {
			return
		}
		w.send(ctx, stop, m)
	}
}

// chainSender is a Sender that also sends mails in a row on one
// connection, each mail's commands pipelined behind the one before;
// *mailer.Pool is one.
type chainSender interface {
	DeliverChain(ctx context.Context, first mailer.Mail, next func() (mailer.Mail, bool), done func(reply string, err error))
}

// send hands m to SMTP, and behind it on the same connection what ready
// holds meanwhile, and passes each outcome on: to the marker, or written
// at once (a refusal, a mail that may or may not have arrived). A mail
// that did not reach the server is tried again after each probe while the
// server cannot be reached, and given back once the workers stop.
func (w *workers) send(ctx context.Context, stop <-chan struct{}, m store.Claimed) {
	r, pr := w.r, w.p.prober
	todo := []store.Claimed{m}
	for len(todo) > 0 {
		m, todo = todo[0], todo[1:]
		if pr != nil && !pr.await(stop) || isClosed(stop) {
			w.p.results <- result{m: m, release: true}
			continue
		}
		missed, err := w.deliver(ctx, stop, m)
		if len(missed) == 0 {
			continue
		}
		switch {
		case isClosed(stop):
			for _, m := range missed {
				w.p.results <- result{m: m, release: true}
			}
			continue
		case pr != nil:
			pr.fail(err)
			todo = append(missed, todo...)
			continue
		}
		for _, m := range missed { // a Drain: no prober to wait for
			r.persist(ctx, w.p, func(ctx context.Context) error { return r.fail(ctx, m, err) })
			w.p.win.done(m.ID)
		}
	}
}

// deliver sends m, and chains to it what ready holds, until the chain
// ends; it passes on each outcome but for the mails that did not reach
// the server, which it returns with the last error.
func (w *workers) deliver(ctx context.Context, stop <-chan struct{}, m store.Claimed) (missed []store.Claimed, err error) {
	cs, ok := w.r.sender.(chainSender)
	if !ok {
		reply, err := w.r.sender.Deliver(ctx, m.From, m.To, m.Raw)
		if unreached(err) {
			return []store.Claimed{m}, err
		}
		w.outcome(ctx, m, reply, err)
		return nil, nil
	}
	taken := []store.Claimed{m} // their outcomes still to come, in order
	next := func() (mailer.Mail, bool) {
		if isClosed(stop) {
			return mailer.Mail{}, false
		}
		n, ok := w.p.ready.tryPop()
		if !ok {
			return mailer.Mail{}, false
		}
		taken = append(taken, n)
		return mail(n), true
	}
	done := func(reply string, e error) {
		m := taken[0]
		taken = taken[1:]
		if unreached(e) {
			missed, err = append(missed, m), e
			return
		}
		w.outcome(ctx, m, reply, e)
	}
	cs.DeliverChain(ctx, mail(m), next, done)
	return missed, err
}

// outcome passes on what SMTP made of m.
func (w *workers) outcome(ctx context.Context, m store.Claimed, reply string, err error) {
	r, pr := w.r, w.p.prober
	if err == nil {
		if pr != nil {
			pr.ok()
		}
		if r.log.Enabled(ctx, slog.LevelDebug) {
			r.log.Debug("outbox: sent", "message", m.ID, "kind", m.Kind, "domain", domain(m.To), "message_id", m.MessageID)
		}
		w.p.results <- result{m: m, reply: reply}
		return
	}
	if pr != nil && refusal(err) {
		pr.ok() // the server answered
	}
	r.persist(ctx, w.p, func(ctx context.Context) error { return r.fail(ctx, m, err) })
	w.p.win.done(m.ID)
}

func mail(m store.Claimed) mailer.Mail { return mailer.Mail{From: m.From, To: m.To, Raw: m.Raw} }

// unreached reports whether err says the mail did not reach the server:
// it could not be reached, or the wait before the transaction was cut
// short. A mail whose data went out without a reply may have.
func unreached(err error) bool {
	if errors.Is(err, mailer.ErrNoReply) {
		return false
	}
	return errors.Is(err, mailer.ErrUnavailable) || errors.Is(err, mailer.ErrClosed) || errors.Is(err, context.Canceled)
}

// domain is the recipient's domain, for logs that must not name people.
func domain(addr string) string {
	addr = strings.TrimSuffix(strings.TrimSpace(addr), ">")
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}
