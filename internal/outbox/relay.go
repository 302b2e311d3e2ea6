package outbox

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nurture/nurture/internal/mailer"
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
	// (default 5m); a running relay renews the leases of what it holds.
	Lease       time.Duration
	MaxAttempts int // temporary refusals (4xx) before a message is given up (default 10)
	// Backoff is the wait before retry n of a refused message (default
	// DefaultBackoff); an unreachable server is retried after
	// OutageBackoff instead, for as long as it takes.
	Backoff func(attempt int) time.Duration
	Poll    time.Duration // fallback poll when nothing wakes the relay (default 5s)
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
	cfg.InFlight = cmp.Or(cfg.InFlight, 256*cfg.Workers)
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

// OutageBackoff is the wait before the next try of a message whose
// attempt found the SMTP server unreachable: 30s, 1m, 2m, then every 5m,
// however long the outage lasts; n counts such tries of the message.
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

// A pipe is a relay's marker, senders and their bookkeeping. tokens
// bounds the messages claimed or handed over and not yet recorded to
// InFlight: a token is taken before a message is claimed or reserved, and
// given back once its outcome is written.
//
// A message is marked as handed to SMTP before its SMTP transaction opens,
// and its outcome recorded after it; only a marked message can have been
// sent when a crash leaves its outcome unknown. The marker takes what
// comes on jobs, marks it in one write together with the outcomes that
// came on results since its last write, and puts it on ready, where
// Workers goroutines take it to SMTP. ready holds four messages per worker,
// refilled when it is down to half, so the senders never wait for the
// database and a write serves several mails, while the marker marks no
// more than they will take soon: the messages marked and not yet recorded,
// the only ones a crash can send twice, are a few per worker.
type pipe struct {
	tokens       chan struct{}
	jobs         chan store.Claimed // claimed or handed over, not yet marked
	ready        chan store.Claimed // marked, for the workers
	refill       chan struct{}      // a worker took ready down to half
	results      chan store.Sent    // accepted by SMTP, not yet recorded
	workers      sync.WaitGroup
	recorded     chan error
	reservations sync.WaitGroup
	gather       sync.Mutex // held by a waiting caller of acquire
	stopRenewing chan struct{}

	mu       sync.Mutex
	firstErr error
	held     map[int64]int // messages handed to the pipe and not yet recorded: id → attempts
}

func (p *pipe) hold(m store.Claimed) {
	p.mu.Lock()
	p.held[m.ID] = m.Attempts
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

func (p *pipe) heldMessages() []store.Held {
	p.mu.Lock()
	defer p.mu.Unlock()
	hs := make([]store.Held, 0, len(p.held))
	for id, attempts := range p.held {
		hs = append(hs, store.Held{ID: id, Attempts: attempts})
	}
	return hs
}

// start runs a pipe. Its sending outlives ctx: a cancelled ctx means
// "claim nothing new", not "abandon the SMTP transaction".
func (r *Relay) start(ctx context.Context) *pipe {
	p := &pipe{
		tokens:       make(chan struct{}, r.cfg.InFlight),
		jobs:         make(chan store.Claimed, r.cfg.InFlight),
		ready:        make(chan store.Claimed, 4*r.cfg.Workers),
		refill:       make(chan struct{}, 1),
		results:      make(chan store.Sent, r.cfg.InFlight),
		recorded:     make(chan error, 1),
		stopRenewing: make(chan struct{}),
		held:         map[int64]int{},
	}
	sendCtx := context.WithoutCancel(ctx)
	for range r.cfg.Workers {
		p.workers.Go(func() { r.work(sendCtx, p) })
	}
	go func() { p.recorded <- r.mark(sendCtx, p) }()
	go r.renew(sendCtx, p)
	return p
}

// work hands what comes on p.ready to SMTP.
func (r *Relay) work(ctx context.Context, p *pipe) {
	for m := range p.ready {
		if 2*len(p.ready) <= cap(p.ready) {
			select {
			case p.refill <- struct{}{}:
			default:
			}
		}
		reply, err := r.sender.Deliver(ctx, m.From, m.To, m.Raw)
		if err != nil {
			p.keep(r.fail(ctx, m, err))
			p.done(m.ID)
			continue
		}
		p.results <- store.Sent{ID: m.ID, Reply: reply}
	}
}

// mark is the pipe's bookkeeper (see pipe). Once ready is down to half,
// it takes as many jobs as fill it, marks them in one write with the
// outcomes that arrived meanwhile, and puts them on ready; outcomes alone
// are written after recordLinger, or at once when there are many. So a
// write serves several mails of each kind. It returns when jobs is closed
// and every outcome is written.
func (r *Relay) mark(ctx context.Context, p *pipe) error {
	var (
		batch   []store.Claimed
		start   []store.Held
		sent    []store.Sent
		jobs    = p.jobs
		results = p.results
		linger  = time.NewTimer(time.Hour)
	)
	linger.Stop()
	defer linger.Stop()
	readyClosed := false
	// Once jobs is closed and its last batch is on ready, the workers stop
	// when they have sent what they have.
	closeReady := func() {
		if jobs == nil && !readyClosed {
			close(p.ready)
			readyClosed = true
		}
	}
	take := func(m store.Claimed) {
		if err := r.prepare(ctx, &m); err != nil {
			p.keep(r.fail(ctx, m, err))
			p.done(m.ID)
			return
		}
		batch = append(batch, m)
	}
	failed := 0 // writes that failed in a row
	for jobs != nil || results != nil || (len(sent) > 0 && failed < recordTries) {
		room := cap(p.ready) - len(p.ready)
		var (
			jobsC  <-chan store.Claimed
			refill <-chan struct{}
			write  bool
		)
		if jobs != nil {
			if 2*room >= cap(p.ready) {
				jobsC = jobs
			} else {
				refill = p.refill
			}
		}
		select {
		case m, ok := <-jobsC:
			if !ok {
				jobs = nil
				break
			}
			take(m)
		gather:
			for len(batch) < room {
				select {
				case m, ok := <-jobs:
					if !ok {
						jobs = nil
						break gather
					}
					take(m)
				default:
					break gather
				}
			}
			write = len(batch) > 0
		case <-refill:
		case s, ok := <-results:
			if !ok {
				results = nil
				write = true
				break
			}
			sent = append(sent, s)
			if len(sent) == 1 {
				linger.Reset(recordLinger)
			}
			write = len(sent) >= recordBatch
		case <-linger.C:
			write = true
		}
		if jobs == nil || results == nil {
			write = true // stopping: nothing waits for company
		}
		if !write || (len(batch) == 0 && len(sent) == 0) {
			closeReady()
			continue
		}
		// Every outcome there is goes along.
	outcomes:
		for results != nil {
			select {
			case s, ok := <-results:
				if !ok {
					results = nil
					break outcomes
				}
				sent = append(sent, s)
			default:
				break outcomes
			}
		}
		linger.Stop()
		start = start[:0]
		for _, m := range batch {
			start = append(start, store.Held{ID: m.ID, Attempts: m.Attempts})
		}
		may, err := r.store.StartSMTP(ctx, r.now(), start, sent)
		if err != nil {
			// The outcomes stay for the next write (the marks failed: the
			// batch is not sent); writing them later beats sending them
			// again once their lease has run out. Once the pipe is
			// stopping, they get recordTries writes in all.
			p.keep(err)
			failed++
			linger.Reset(recordRetry)
		} else {
			failed = 0
			for _, s := range sent {
				p.done(s.ID)
			}
			r.count(func(st *Stats) { st.Sent += int64(len(sent)) })
			sent = sent[:0]
		}
		for _, m := range batch {
			if may[m.ID] {
				p.ready <- m
				continue
			}
			// Claimed by another relay since (its lease ran out), or the
			// mark could not be written: not ours to send.
			p.done(m.ID)
		}
		batch = batch[:0]
		closeReady()
	}
	return nil
}

const (
	recordBatch  = 64                     // outcomes that are written at once, without waiting for marks
	recordLinger = 2 * time.Millisecond   // how long an outcome waits for company
	recordRetry  = 250 * time.Millisecond // how long outcomes wait after a failed write
	recordTries  = 3                      // writes of the last outcomes of a stopping pipe
)

// done forgets a message whose outcome is written, or that is not ours.
func (p *pipe) done(id int64) {
	p.unhold(id)
	p.release(1)
}

// renew extends the leases of the messages p holds, a few times per lease,
// until the pipe closes.
func (r *Relay) renew(ctx context.Context, p *pipe) {
	t := time.NewTicker(r.cfg.Lease / 4)
	defer t.Stop()
	for {
		select {
		case <-p.stopRenewing:
			return
		case <-t.C:
			if err := r.store.RenewLeases(ctx, p.heldMessages(), r.now().Add(r.cfg.Lease)); err != nil {
				r.log.Error("outbox: renew leases", "err", err)
			}
		}
	}
}

// close waits until everything handed to the pipe is sent and recorded.
func (p *pipe) close() error {
	close(p.jobs)
	p.workers.Wait() // the marker closes ready once jobs is drained
	close(p.results)
	<-p.recorded
	close(p.stopRenewing)
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
// without waiting. It returns how many it took. One waiting caller at a
// time gathers: two holding part of the window each while waiting for more
// could wait for each other forever. A caller that does not wait needs no
// turn, and never waits for one.
func (p *pipe) acquire(ctx context.Context, n int, wait bool) int {
	if wait {
		p.gather.Lock()
		defer p.gather.Unlock()
	}
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
			p.hold(m)
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
		v.p.hold(m)
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

// prepare readies m for SMTP: a suppressed recipient gets nothing, and a
// step mail whose bytes were never stored (its producer died before
// handing it over) is composed again.
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
	case !refusal(err):
		// The server could not be reached: no fault of the message, so no
		// attempt is used up, however long the outage lasts.
		r.count(func(s *Stats) { s.Retried++ })
		next := r.now().Add(OutageBackoff(m.Attempts - m.Refusals))
		log.Warn("outbox: SMTP unavailable, will retry", "err", reply, "at", next)
		return r.store.MarkRetry(ctx, m.ID, next, reply, m.Raw, false)
	case m.Refusals+1 >= r.cfg.MaxAttempts:
		r.count(func(s *Stats) { s.Failed++ })
		log.Error("outbox: giving up after temporary failures", "reply", reply)
		return r.store.MarkFailed(ctx, m.ID, reply)
	default:
		r.count(func(s *Stats) { s.Retried++ })
		next := r.now().Add(r.cfg.Backoff(m.Refusals + 1))
		log.Warn("outbox: temporary failure, will retry", "reply", reply, "at", next)
		return r.store.MarkRetry(ctx, m.ID, next, reply, m.Raw, true)
	}
}

// refusal reports whether err is the server's answer (a 4xx reply), as
// opposed to a server that could not be reached or a connection that
// broke.
func refusal(err error) bool {
	return !errors.Is(err, mailer.ErrUnavailable) && !errors.Is(err, mailer.ErrClosed)
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
