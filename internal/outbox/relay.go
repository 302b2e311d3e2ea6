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

// Sender hands raw mail to SMTP and returns the server's reply;
// *mailer.Pool is one.
type Sender interface {
	Deliver(ctx context.Context, from, to string, raw []byte) (reply string, err error)
}

// Config tunes the relay; zero values take the defaults.
type Config struct {
	Workers int // concurrent SMTP transactions; match the SMTP pool size (default 4)
	// InFlight bounds the messages claimed or reserved and not yet recorded
	// (default 256 × Workers). It must cover the dispatcher's batch while
	// that batch is written and the window is sending. Of these, only the
	// ones marked as handed to SMTP and not yet recorded can be sent twice
	// after a crash: at most 10 × Workers (the queue of four per worker and
	// the one in SMTP, and as many outcomes awaiting the next write).
	InFlight int
	// Lease is how long a claim holds before another relay may take it
	// even though the node that holds it is alive (default 5m); a running
	// relay renews the leases of what it holds.
	Lease time.Duration
	// NodeLease is how long the relay's node counts as alive after its
	// last renewal (default 5s); it renews five times as often. Mail held
	// by a node that stopped renewing is claimed at once.
	NodeLease   time.Duration
	MaxAttempts int // temporary refusals (4xx) before a message is given up (default 10)
	// Backoff is the wait before retry n of a refused message (default
	// DefaultBackoff).
	Backoff func(attempt int) time.Duration
	// ProbeBackoff is the wait before probe n of an outage of a running
	// relay (default ProbeBackoff); OutageLog is how often an outage logs
	// that it lasts (default 1m).
	ProbeBackoff func(n int) time.Duration
	OutageLog    time.Duration
	// Poll is the fallback poll when nothing wakes the relay (default
	// 1s): mail another node released as it stopped is found by it.
	Poll time.Duration
	// Recompose composes a claimed mail whose bytes were never stored: a
	// step mail written leased by a dispatcher that died before handing it
	// over. Without it such mail fails.
	Recompose func(ctx context.Context, m store.Claimed) ([]byte, error)
}

// Relay moves mail from the outbox to SMTP.
type Relay struct {
	store  *store.Store
	sender Sender
	log    *slog.Logger
	now    func() time.Time
	cfg    Config
	wake   chan struct{}
	// started is closed once Run has made its first claim.
	started     chan struct{}
	startedOnce sync.Once

	mu    sync.Mutex
	stats Stats
	live  *pipeline // Run's, while it runs
}

// Stats counts what a relay did since it started.
type Stats struct {
	Sent, Retried, Failed, Bounced, Suppressed int64
	// Handed counts mails producers handed over as they committed, which
	// were thus never claimed from the outbox.
	Handed int64
	// Released counts mails given back to the queue unsent by a stopping
	// relay; NoReply counts transactions whose data got no reply.
	Released, NoReply int64
}

// New returns a relay; now is the clock every decision uses.
func New(s *store.Store, sender Sender, log *slog.Logger, now func() time.Time, cfg Config) *Relay {
	cfg.Workers = cmp.Or(cfg.Workers, 4)
	cfg.InFlight = cmp.Or(cfg.InFlight, 256*cfg.Workers)
	cfg.Lease = cmp.Or(cfg.Lease, 5*time.Minute)
	cfg.NodeLease = cmp.Or(cfg.NodeLease, 5*time.Second)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, 10)
	cfg.Poll = cmp.Or(cfg.Poll, time.Second)
	cfg.OutageLog = cmp.Or(cfg.OutageLog, time.Minute)
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.ProbeBackoff == nil {
		cfg.ProbeBackoff = ProbeBackoff
	}
	return &Relay{store: s, sender: sender, log: log, now: now, cfg: cfg, wake: make(chan struct{}, 1), started: make(chan struct{})}
}

// DefaultBackoff waits 30s, 1m, 2m, 4m … capped at 1h.
func DefaultBackoff(attempt int) time.Duration {
	d := 30 * time.Second << min(max(attempt-1, 0), 7)
	return min(d, time.Hour)
}

// OutageBackoff is the wait before the next try of a message whose
// attempt in a Drain found the SMTP server unreachable: 30s, 1m, 2m, then
// every 5m, however long the outage lasts; n counts such tries of the
// message. A running relay pauses instead (see ProbeBackoff).
func OutageBackoff(n int) time.Duration {
	return min(30*time.Second<<min(max(n-1, 0), 4), 5*time.Minute)
}

// Wake makes a running relay look for due mail now.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Started is closed once Run has joined and made its first claim: from then
// on a Reserve finds room unless a claim is under way or the window is
// full. It stays closed after Run returns.
func (r *Relay) Started() <-chan struct{} { return r.started }

// Stats returns the counters.
func (r *Relay) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

func (r *Relay) count(f func(*Stats)) {
	r.mu.Lock()
	f(&r.stats)
	r.mu.Unlock()
}

// Run joins the relays as a node of its own, then drains the outbox
// whenever woken, polled, when a retry falls due or a node dies, until ctx
// is done, and takes the mail producers hand it (see Reserve). While SMTP
// cannot be reached it pauses and probes (see ProbeBackoff).
//
// When ctx is done it stops: it claims nothing more, lets the SMTP
// transactions under way finish and records them, and gives every mail it
// holds that has not reached SMTP back to the queue, in one write, due at
// once; then it leaves, which frees anything it could not write. It
// returns an error if it never could join (the database stayed away), or
// if writes failed while it stopped; mail whose outcome was never written
// counts as a possible repeat when it is sent again.
func (r *Relay) Run(ctx context.Context) error {
	p, err := r.start(ctx, true)
	for err != nil { // the database is away: try again every second
		r.log.Error("outbox: cannot start the relay; trying again", "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
		p, err = r.start(ctx, true)
	}
	r.mu.Lock()
	r.live = p
	r.mu.Unlock()
	failing := false // claims fail (the database is away): log the first and the recovery only
	for ctx.Err() == nil {
		_, err := r.claim(ctx, p)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			r.log.Error("outbox: claim; trying again every second", "err", err)
			failing = true
		case err == nil && failing:
			r.log.Info("outbox: claims work again")
			failing = false
		}
		if err := p.err(); err != nil && ctx.Err() == nil && !failing {
			r.log.Error("outbox: record", "err", err)
		}
		r.startedOnce.Do(func() { close(r.started) })
		r.sleep(ctx)
	}
	r.mu.Lock()
	r.live = nil
	r.mu.Unlock()
	return p.stop(true)
}

// sleep waits for a wake, the poll or the next mail due.
func (r *Relay) sleep(ctx context.Context) {
	wait := r.cfg.Poll
	if next, err := r.store.NextMessageDue(ctx); err == nil && next != nil {
		wait = min(wait, max(next.Sub(r.now()), 10*time.Millisecond))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-r.wake:
	case <-t.C:
	}
}

// Drain sends everything due now and returns how many messages it handled,
// once all of them are recorded. Cancelling ctx stops new claims; messages
// already claimed are still sent and recorded, so nothing is lost. An
// unreachable server does not pause a Drain: each mail is retried later.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	p, err := r.start(ctx, false)
	if err != nil {
		return 0, err
	}
	n, claimErr := r.claim(ctx, p)
	if err := p.stop(false); err != nil {
		return n, err
	}
	if errors.Is(claimErr, context.Canceled) {
		claimErr = nil
	}
	return n, claimErr
}

// claim claims due messages into p, a window at a time, until fewer are due
// than were asked for. It returns how many it claimed.
func (r *Relay) claim(ctx context.Context, p *pipeline) (int, error) {
	handled := 0
	for ctx.Err() == nil {
		free := p.win.acquire(ctx, r.cfg.InFlight, true)
		if free == 0 {
			break
		}
		now := r.now()
		batch, err := r.store.ClaimMessages(ctx, now, now.Add(r.cfg.Lease), free, p.win.heldIDs())
		p.win.release(free - len(batch))
		if err != nil {
			return handled, err
		}
		for _, m := range batch {
			p.win.hold(m)
			p.jobs <- m
		}
		handled += len(batch)
		if len(batch) < free {
			break
		}
	}
	return handled, nil
}
