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
	Workers int // concurrent SMTP transactions; match the SMTP pool size (default 4)
	// InFlight bounds the messages claimed or reserved and not yet recorded
	// (default 128 × Workers). It must cover the dispatcher's batch while
	// that batch is written and the window is sending; of these, only mail
	// already handed to SMTP can be sent twice after a crash.
	InFlight    int
	Lease       time.Duration // how long a claim holds before another relay may take it (default 5m)
	MaxAttempts int           // attempts before a temporary failure becomes final (default 10)
	Backoff     func(attempt int) time.Duration
	Poll        time.Duration // fallback poll when nothing wakes the relay (default 5s)
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

	mu    sync.Mutex
	stats Stats
	live  *pipe // Run's pipe, while it runs
}

// Stats counts what a relay did since it started.
type Stats struct {
	Sent, Retried, Failed, Bounced, Suppressed int64
	// Handed counts mails producers handed over as they committed, which
	// were thus never claimed from the outbox.
	Handed int64
}

// New returns a relay; now is the clock every decision uses.
func New(s *store.Store, sender Sender, log *slog.Logger, now func() time.Time, cfg Config) *Relay {
	cfg.Workers = cmp.Or(cfg.Workers, 4)
	cfg.InFlight = cmp.Or(cfg.InFlight, 128*cfg.Workers)
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
// until ctx is done, and takes the mail producers hand it (see Reserve).
// Mail already handed to SMTP or reserved is finished and recorded before
// Run returns.
func (r *Relay) Run(ctx context.Context) error {
	p := r.start(ctx)
	r.mu.Lock()
	r.live = p
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.live = nil
		r.mu.Unlock()
		p.reservations.Wait()
		p.close()
	}()
	for {
		if _, err := r.claim(ctx, p); err != nil && ctx.Err() == nil {
			r.log.Error("outbox: claim", "err", err)
		}
		if err := p.err(); err != nil && ctx.Err() == nil {
			r.log.Error("outbox: record", "err", err)
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

// Drain sends everything due now and returns how many messages it handled,
// once all of them are recorded. Cancelling ctx stops new claims; messages
// already claimed are still sent and recorded, so nothing is lost.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	p := r.start(ctx)
	n, claimErr := r.claim(ctx, p)
	if err := p.close(); err != nil {
		return n, err
	}
	if errors.Is(claimErr, context.Canceled) {
		claimErr = nil
	}
	return n, claimErr
}

type result struct {
	msg store.Claimed
	err error
}

// A pipe is a relay's senders and recorder: Workers goroutines send what
// comes on jobs, and one records the results. tokens bounds the messages
// claimed or handed over and not yet recorded to InFlight: a token is
// taken before a message is claimed or reserved, and given back once its
// outcome is written.
type pipe struct {
	tokens       chan struct{}
	jobs         chan store.Claimed
	results      chan result
	workers      sync.WaitGroup
	recorded     chan error
	reservations sync.WaitGroup
	gather       sync.Mutex // held by the caller of acquire

	mu       sync.Mutex
	firstErr error
	held     map[int64]bool // messages handed to the senders and not yet recorded
}

func (p *pipe) hold(id int64) {
	p.mu.Lock()
	p.held[id] = true
	p.mu.Unlock()
}

func (p *pipe) unhold(id int64) {
	p.mu.Lock()
	delete(p.held, id)
	p.mu.Unlock()
}

func (p *pipe) heldIDs() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]int64, 0, len(p.held))
	for id := range p.held {
		ids = append(ids, id)
	}
	return ids
}

// start runs a pipe. Its sending outlives ctx: a cancelled ctx means
// "claim nothing new", not "abandon the SMTP transaction".
func (r *Relay) start(ctx context.Context) *pipe {
	p := &pipe{
		tokens:   make(chan struct{}, r.cfg.InFlight),
		jobs:     make(chan store.Claimed, r.cfg.InFlight),
		results:  make(chan result, r.cfg.InFlight),
		recorded: make(chan error, 1),
		held:     map[int64]bool{},
	}
	sendCtx := context.WithoutCancel(ctx)
	for range r.cfg.Workers {
		p.workers.Go(func() {
			for m := range p.jobs {
				err := r.send(sendCtx, &m)
				p.results <- result{m, err}
			}
		})
	}
	go func() { p.recorded <- r.record(sendCtx, p) }()
	return p
}

// close waits until everything handed to the pipe is sent and recorded.
func (p *pipe) close() error {
	close(p.jobs)
	p.workers.Wait()
	close(p.results)
	<-p.recorded
	return p.err()
}

func (p *pipe) keep(err error) {
	p.mu.Lock()
	if err != nil && p.firstErr == nil {
		p.firstErr = err
	}
	p.mu.Unlock()
}

// err returns the first recording error since the last call.
func (p *pipe) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.firstErr
	p.firstErr = nil
	return err
}

// acquire takes up to n tokens: when wait is set, it waits for at least
// half of them (so claims come in batches), then takes what is free
// without waiting. It returns how many it took. One caller at a time
// gathers: two holding part of the window each while waiting for more
// could wait for each other forever.
func (p *pipe) acquire(ctx context.Context, n int, wait bool) int {
	p.gather.Lock()
	defer p.gather.Unlock()
	got := 0
	for got < n {
		select {
		case p.tokens <- struct{}{}:
			got++
			continue
		default:
		}
		if !wait || got >= (n+1)/2 {
			break
		}
		select {
		case p.tokens <- struct{}{}:
			got++
		case <-ctx.Done():
			p.release(got)
			return 0
		}
	}
	return got
}

func (p *pipe) release(n int) {
	for range n {
		<-p.tokens
	}
}

// claim claims due messages into p, a window at a time, until fewer are due
// than were asked for. It returns how many it claimed.
func (r *Relay) claim(ctx context.Context, p *pipe) (int, error) {
	handled := 0
	for ctx.Err() == nil {
		free := p.acquire(ctx, r.cfg.InFlight, true)
		if free == 0 {
			break
		}
		now := r.now()
		batch, err := r.store.ClaimMessages(ctx, now, now.Add(r.cfg.Lease), free, p.heldIDs())
		p.release(free - len(batch))
		if err != nil {
			return handled, err
		}
		for _, m := range batch {
			p.hold(m.ID)
			p.jobs <- m
		}
		handled += len(batch)
		if len(batch) < free {
			break
		}
	}
	return handled, nil
}

// A Reservation is room in a running relay's in-flight window for mail a
// producer is about to write: the producer writes up to N mails as claimed
// until Until, in its own transaction, and after commit hands them over,
// which spares a claim of each from the outbox. A nil Reservation has room
// for none.
type Reservation struct {
	r     *Relay
	p     *pipe
	n     int
	Until time.Time
}

// Reserve reserves room for up to n mails while Run is running, and nil
// otherwise. With wait set it waits for room for at least half of them,
// and returns nil if ctx ends first. Every Reservation must end with Hand
// or Cancel.
func (r *Relay) Reserve(ctx context.Context, n int, wait bool) *Reservation {
	r.mu.Lock()
	p := r.live
	if p != nil {
		p.reservations.Add(1)
	}
	r.mu.Unlock()
	if p == nil {
		return nil
	}
	got := p.acquire(ctx, min(n, r.cfg.InFlight), wait)
	if got == 0 {
		p.reservations.Done()
		return nil
	}
	return &Reservation{r: r, p: p, n: got, Until: r.now().Add(r.cfg.Lease)}
}

// N is how many mails the reservation has room for.
func (v *Reservation) N() int {
	if v == nil {
		return 0
	}
	return v.n
}

// Hand passes mail written with this reservation's lease, after its
// transaction committed, to the relay's senders, and frees the room not
// used. ms holds at most N mails.
func (v *Reservation) Hand(ms []store.Claimed) {
	if v == nil {
		return
	}
	if len(ms) > v.n {
		panic("outbox: handed more mail than reserved")
	}
	v.r.count(func(s *Stats) { s.Handed += int64(len(ms)) })
	for _, m := range ms {
		v.p.hold(m.ID)
		v.p.jobs <- m
	}
	v.end(v.n - len(ms))
}

// Cancel frees the reservation: the transaction that would have written
// the mail failed.
func (v *Reservation) Cancel() {
	if v != nil {
		v.end(v.n)
	}
}

func (v *Reservation) end(unused int) {
	v.p.release(unused)
	v.n = 0
	v.p.reservations.Done()
}

// send hands m to SMTP. A step mail whose bytes were never stored (its
// producer died before handing it over) is composed again first.
func (r *Relay) send(ctx context.Context, m *store.Claimed) error {
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
	return r.sender.Send(ctx, m.From, m.To, m.Raw)
}

var errSuppressed = errors.New("recipient is on the suppression list")

// unsendable is a mail that cannot be sent at all, such as a step mail
// whose step was deleted before it could be composed again.
type unsendable struct{ err error }

func (u unsendable) Error() string { return "cannot be sent: " + u.err.Error() }
func (u unsendable) Unwrap() error { return u.err }

// record writes outcomes: successes in batches, failures one by one. Each
// recorded message gives its token back.
//
// A batch is what arrives within recordLinger of its first success, up to
// recordBatch: SMTP answers a few mails at a time, and one UPDATE per few
// mails cost more than the mails' sending.
func (r *Relay) record(ctx context.Context, p *pipe) error {
	var ids []int64
	var replies []string
	flush := func() {
		if len(ids) == 0 {
			return
		}
		p.keep(r.store.MarkSent(ctx, ids, replies, r.now()))
		for _, id := range ids {
			p.unhold(id)
		}
		r.count(func(s *Stats) { s.Sent += int64(len(ids)) })
		p.release(len(ids))
		ids, replies = ids[:0], replies[:0]
	}
	add := func(res result) {
		if res.err == nil {
			ids = append(ids, res.msg.ID)
			replies = append(replies, "250 OK")
			return
		}
		p.keep(r.fail(ctx, res.msg, res.err))
		p.unhold(res.msg.ID)
		p.release(1)
	}
	linger := time.NewTimer(0)
	<-linger.C
	for {
		res, ok := <-p.results
		if !ok {
			return nil
		}
		add(res)
		linger.Reset(recordLinger)
	batch:
		for len(ids) < recordBatch {
			select {
			case res, ok = <-p.results:
				if !ok {
					break batch
				}
				add(res)
			case <-linger.C:
				break batch
			}
		}
		if !linger.Stop() {
			select {
			case <-linger.C:
			default:
			}
		}
		flush()
		if !ok {
			return nil
		}
	}
}

const (
	recordBatch  = 128
	recordLinger = 2 * time.Millisecond
)

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
		return r.store.MarkRetry(ctx, m.ID, next, reply, m.Raw)
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
