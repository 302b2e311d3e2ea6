package outbox

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// Sender hands raw mail to SMTP.
type Sender interface {
	Send(ctx context.Context, from, to string, raw []byte) error
}

// Config tunes the relay; zero values take the defaults.
type Config struct {
	Workers     int           // concurrent SMTP transactions; match the SMTP pool size (default 4)
	InFlight    int           // claimed but unrecorded messages at most (default 16 × Workers)
	Lease       time.Duration // how long a claim holds before another relay may take it (default 5m)
	MaxAttempts int           // attempts before a temporary failure becomes final (default 10)
	Backoff     func(attempt int) time.Duration
	Poll        time.Duration // fallback poll when nothing wakes the relay (default 5s)
}

// Relay moves mail from the outbox to SMTP.
type Relay struct {
	store  *store.Store
	sender Sender
	log    *slog.Logger
	now    func() time.Time
	cfg    Config
	wake   chan struct{}

	mu    sync.Mutex
	stats Stats
}

// Stats counts what a relay did since it started.
type Stats struct {
	Sent, Retried, Failed, Bounced, Suppressed int64
}

// New returns a relay; now is the clock every decision uses.
func New(s *store.Store, sender Sender, log *slog.Logger, now func() time.Time, cfg Config) *Relay {
	cfg.Workers = cmp.Or(cfg.Workers, 4)
	cfg.InFlight = cmp.Or(cfg.InFlight, 16*cfg.Workers)
	cfg.Lease = cmp.Or(cfg.Lease, 5*time.Minute)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, 10)
	cfg.Poll = cmp.Or(cfg.Poll, 5*time.Second)
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	return &Relay{store: s, sender: sender, log: log, now: now, cfg: cfg, wake: make(chan struct{}, 1)}
}

// DefaultBackoff waits 30s, 1m, 2m, 4m … capped at 1h.
func DefaultBackoff(attempt int) time.Duration {
	d := 30 * time.Second << min(max(attempt-1, 0), 7)
	return min(d, time.Hour)
}

// Wake makes a running relay look for due mail now.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Stats returns the counters.
func (r *Relay) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Run drains the outbox whenever woken, polled, or when a retry falls due,
// until ctx is done. Mail already handed to SMTP is finished and recorded
// before Run returns.
func (r *Relay) Run(ctx context.Context) error {
	for {
		if _, err := r.Drain(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("outbox: drain", "err", err)
		}
		wait := r.cfg.Poll
		if next, err := r.store.NextMessageDue(ctx); err == nil && next != nil {
			wait = min(wait, max(next.Sub(r.now()), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

type result struct {
	msg store.Claimed
	err error
}

// Drain sends everything due now and returns how many messages it handled.
// Cancelling ctx stops new claims; messages already claimed are still sent
// and recorded, so nothing is lost.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	jobs := make(chan store.Claimed, r.cfg.InFlight)
	results := make(chan result, r.cfg.InFlight)
	// tokens bound claimed-but-unrecorded messages to InFlight.
	tokens := make(chan struct{}, r.cfg.InFlight)

	// Sending must outlive ctx: a cancelled ctx means "claim nothing new",
	// not "abandon the SMTP transaction".
	sendCtx := context.WithoutCancel(ctx)
	var workers sync.WaitGroup
	for range r.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for m := range jobs {
				results <- result{m, r.send(sendCtx, m)}
			}
		}()
	}
	recorded := make(chan error, 1)
	go func() { recorded <- r.record(sendCtx, results, tokens) }()

	var claimErr error
	handled := 0
	for ctx.Err() == nil {
		// Wait for at least half the window to be free, so claims come in
		// batches, then claim as many as are free.
		tokens <- struct{}{}
		free := 1
		for free < r.cfg.InFlight {
			select {
			case tokens <- struct{}{}:
				free++
				continue
			default:
			}
			if free >= r.cfg.InFlight/2 {
				break
			}
			tokens <- struct{}{}
			free++
		}
		now := r.now()
		batch, err := r.store.ClaimMessages(ctx, now, now.Add(r.cfg.Lease), free)
		for range free - len(batch) {
			<-tokens
		}
		if err != nil {
			claimErr = err
			break
		}
		for _, m := range batch {
			jobs <- m
		}
		handled += len(batch)
		if len(batch) < free {
			break
		}
	}
	close(jobs)
	workers.Wait()
	close(results)
	if err := <-recorded; err != nil {
		return handled, err
	}
	if errors.Is(claimErr, context.Canceled) {
		claimErr = nil
	}
	return handled, claimErr
}

func (r *Relay) send(ctx context.Context, m store.Claimed) error {
	if m.Suppressed {
		return errSuppressed
	}
	return r.sender.Send(ctx, m.From, m.To, m.Raw)
}

var errSuppressed = errors.New("recipient is on the suppression list")

// record writes outcomes: successes in batches as they come, failures one
// by one. Each recorded message frees its token.
func (r *Relay) record(ctx context.Context, results <-chan result, tokens <-chan struct{}) error {
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	var ids []int64
	var replies []string
	flush := func() {
		if len(ids) == 0 {
			return
		}
		keep(r.store.MarkSent(ctx, ids, replies, r.now()))
		r.count(func(s *Stats) { s.Sent += int64(len(ids)) })
		for range ids {
			<-tokens
		}
		ids, replies = ids[:0], replies[:0]
	}
	for {
		res, ok := <-results
		if !ok {
			flush()
			return firstErr
		}
		for {
			if res.err == nil {
				ids = append(ids, res.msg.ID)
				replies = append(replies, "250 OK")
			} else {
				keep(r.fail(ctx, res.msg, res.err))
				<-tokens
			}
			// Take whatever else is ready without waiting: one UPDATE then
			// records a whole group.
			select {
			case res, ok = <-results:
				if ok {
					continue
				}
			default:
			}
			break
		}
		flush()
		if !ok {
			return firstErr
		}
	}
}

func (r *Relay) fail(ctx context.Context, m store.Claimed, err error) error {
	reply := err.Error()
	log := r.log.With("message", m.ID, "kind", m.Kind, "attempt", m.Attempts)
	switch {
	case errors.Is(err, errSuppressed):
		r.count(func(s *Stats) { s.Suppressed++ })
		log.Info("outbox: suppressed, not sent")
		return r.store.MarkFailed(ctx, m.ID, "suppressed")
	case Permanent(err):
		r.count(func(s *Stats) { s.Bounced++ })
		log.Warn("outbox: permanent failure, lead bounced", "reply", reply)
		return r.store.Bounce(ctx, m.ID, m.LeadID, reply, r.now())
	case m.Attempts >= r.cfg.MaxAttempts:
		r.count(func(s *Stats) { s.Failed++ })
		log.Error("outbox: giving up after temporary failures", "reply", reply)
		return r.store.MarkFailed(ctx, m.ID, reply)
	default:
		r.count(func(s *Stats) { s.Retried++ })
		next := r.now().Add(r.cfg.Backoff(m.Attempts))
		log.Warn("outbox: temporary failure, will retry", "reply", reply, "at", next)
		return r.store.MarkRetry(ctx, m.ID, next, reply)
	}
}

func (r *Relay) count(f func(*Stats)) {
	r.mu.Lock()
	f(&r.stats)
	r.mu.Unlock()
}

// Permanent reports whether an SMTP error says the mail can never be
// delivered (a 5xx reply). Anything else, an unreachable server included, is
// worth another attempt.
func Permanent(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && !t.Temporary()
}
