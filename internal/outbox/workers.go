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
// message from ready, hands it to SMTP and reports the outcome. Stop makes
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
		if res, ok := w.send(ctx, stop, m); ok {
			w.p.results <- res
		}
	}
}

// send hands m to SMTP, again after each probe while the server cannot be
// reached. It returns the outcome for the marker, or false when it wrote
// the outcome itself (a refusal, a mail that may or may not have arrived).
func (w *workers) send(ctx context.Context, stop <-chan struct{}, m store.Claimed) (result, bool) {
	r, pr := w.r, w.p.prober
	for {
		if pr != nil && !pr.await(stop) || isClosed(stop) {
			return result{m: m, release: true}, true
		}
		reply, err := r.sender.Deliver(ctx, m.From, m.To, m.Raw)
		switch {
		case err == nil:
			if pr != nil {
				pr.ok()
			}
			if r.log.Enabled(ctx, slog.LevelDebug) {
				r.log.Debug("outbox: sent", "message", m.ID, "kind", m.Kind, "domain", domain(m.To), "message_id", m.MessageID)
			}
			return result{m: m, reply: reply}, true
		case unreached(err) && isClosed(stop):
			return result{m: m, release: true}, true
		case unreached(err) && pr != nil:
			pr.fail(err)
			continue
		}
		if pr != nil && refusal(err) {
			pr.ok() // the server answered
		}
		r.persist(ctx, w.p, func(ctx context.Context) error { return r.fail(ctx, m, err) })
		w.p.win.done(m.ID)
		return result{}, false
	}
}

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
