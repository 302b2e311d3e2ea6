package engage

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// Events are written by group commit, as the signups are: concurrent
// requests queue their event, and one writer takes everything waiting (up
// to maxBatch) and writes it in one transaction. There is no fixed wait: at
// idle a batch is one event and goes at once; under load the next batch
// forms while the previous one commits. A request is answered once its
// batch has committed or failed.
//
// Up to maxWriters batches are written at once, so that Postgres works on
// one while the other travels or commits: a single writer keeps a single
// backend busy, one core of the database's. A further writer starts only
// when more than spill requests wait, though: until then the one writer's
// next batch takes them all, and a batch of many costs Postgres and this
// process less per event than two batches of few (on two cores, about a
// quarter less of Postgres's time per open). The clicks of one mail are
// never in two batches at once, so that each click's verdict sees the
// clicks of its mail before it.

const (
	maxWriters   = 2
	maxBatch     = 256
	spill        = 64 // waiting requests that start a further writer
	batchTimeout = 15 * time.Second
	batchRetries = 3 // attempts of a batch that hit a deadlock
)

// A pending is one open or click (ref set), or one Record call (events
// set), queued, then taken by the writer or abandoned by its caller.
type pending struct {
	ctx  context.Context
	ref  tracking.Ref
	req  Request
	skip bool // resolve the click's target only; record nothing

	events []event // a Record call's, leads resolved

	state atomic.Int32
	done  chan error

	msg      *store.TrackedMessage // an open's or click's mail, once resolved
	target   string                // a click's, once resolved
	recorded []Recorded            // a Record call's outcome, by event
	err      error                 // its own outcome when the batch commits
}

const (
	queued int32 = iota
	taken
	abandoned
)

type writer struct {
	s *Service

	mu       sync.Mutex
	queue    []*pending
	running  int           // writer goroutines
	inFlight map[int64]int // clicked mails in batches being written, with their clicks
	idle     *sync.Cond
}

func (w *writer) init(s *Service) {
	w.s = s
	w.idle = sync.NewCond(&w.mu)
	w.inFlight = map[int64]int{}
}

// write queues p and waits until its batch is committed or failed, or
// until ctx is done. A caller that gives up before p was taken leaves
// nothing written.
func (w *writer) write(ctx context.Context, p *pending) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.done = make(chan error, 1)
	w.mu.Lock()
	w.queue = append(w.queue, p)
	if w.running == 0 || (w.running < maxWriters && len(w.queue) > spill) {
		w.running++
		go w.run()
	}
	w.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// Not taken yet, it is never written. Taken, it may still commit;
		// the caller, who answers a person's browser, does not wait for
		// it: the event counts as lost, and a client that retries with
		// its idempotency key records it once.
		p.state.CompareAndSwap(queued, abandoned)
		return ctx.Err()
	}
}

// Wait returns once no batch is being written: after the HTTP server has
// shut down, every event taken is then committed or failed.
func (s *Service) Wait() {
	w := &s.w
	w.mu.Lock()
	for w.running > 0 {
		w.idle.Wait()
	}
	w.mu.Unlock()
}

func (w *writer) run() {
	var batch []*pending
	for {
		batch = w.take(batch)
		if batch == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), batchTimeout)
		w.s.writeBatch(ctx, batch)
		cancel()
	}
}

// clicked is the mail whose clicks p is one of, or 0.
func (p *pending) clicked() int64 {
	if p.events != nil || p.ref.Kind == tracking.KindOpen {
		return 0
	}
	return p.ref.Message
}

// take ends the writer's previous batch, done, and removes up to maxBatch
// pendings from the queue, oldest first, leaving the clicks of mails that
// another batch being written has. It stops the writer when there are
// none. A Record call counts as many as its events.
func (w *writer) take(done []*pending) []*pending {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range done {
		if m := p.clicked(); m != 0 {
			if w.inFlight[m]--; w.inFlight[m] == 0 {
				delete(w.inFlight, m)
			}
		}
	}
	var batch []*pending
	mine := map[int64]bool{}
	size := 0
	rest := w.queue[:0]
	for _, p := range w.queue {
		m := p.clicked()
		switch {
		case p.state.Load() == abandoned:
		case size >= maxBatch || (m != 0 && w.inFlight[m] > 0 && !mine[m]):
			rest = append(rest, p)
		case p.state.CompareAndSwap(queued, taken):
			if m != 0 {
				w.inFlight[m]++
				mine[m] = true
			}
			batch = append(batch, p)
			size += max(1, len(p.events))
		}
	}
	clear(w.queue[len(rest):])
	w.queue = rest
	if len(batch) == 0 {
		w.running--
		w.idle.Broadcast()
		return nil
	}
	return batch
}
