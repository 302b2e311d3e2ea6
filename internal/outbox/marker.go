package outbox

import (
	"context"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// result is what a worker did with a message: SMTP accepted it (reply),
// or it never reached SMTP and goes back to the queue (release).
type result struct {
	m       store.Claimed
	reply   string
	release bool
}

// marker writes the relay's rounds. A message is marked as handed to SMTP
// before a worker may take it, and its outcome recorded after: only a
// marked message can have been sent when a crash leaves its outcome
// unknown. Once ready is down to half, the marker takes as many jobs as
// fill it, marks them in one write together with the outcomes that came
// meanwhile, and puts those it may send on ready; outcomes alone are
// written after recordLinger, or at once when there are many. So a write
// serves several mails, while the messages marked and not yet recorded,
// the only ones a crash can send twice, stay at most one and a half
// readyPerWorker per worker: those on ready, and those taken since the
// last write (in a transaction, or sent and waiting for the next).
//
// Stop releases: what is not yet marked, what waits on ready, and what
// comes back from the workers or from late hand-overs is given back to
// the queue, in the first write after Stop with every outcome there is.
// The marker returns once jobs and results are closed and all is written,
// or, when writes keep failing after Stop (or after its inputs closed),
// once stopBudget has passed.
type marker struct {
	service
	r       *Relay
	p       *pipeline
	jobs    <-chan store.Claimed
	results <-chan result
}

// Start runs the marker.
func (k *marker) Start(ctx context.Context) {
	k.startWith(func(stop <-chan struct{}) { k.run(ctx, stop) })
}

// wait waits until the marker returned by itself: its inputs closed.
func (k *marker) wait() { <-k.done }

// round is what the marker has to write, and what it waits on.
type round struct {
	pending   []store.Claimed // to mark
	sent      []store.Sent
	released  []store.Claimed
	releasing bool

	stop    <-chan struct{} // nil once seen
	jobs    <-chan store.Claimed
	results <-chan result
	linger  *time.Timer
	retry   <-chan time.Time // set after a failed write
}

func (rd *round) left() int { return len(rd.pending) + len(rd.sent) + len(rd.released) }

func (k *marker) run(ctx context.Context, stop <-chan struct{}) {
	rd := &round{stop: stop, jobs: k.jobs, results: k.results, linger: time.NewTimer(time.Hour)}
	rd.linger.Stop()
	defer rd.linger.Stop()
	var giveUp time.Time
	for rd.jobs != nil || rd.results != nil || rd.left() > 0 {
		if (rd.releasing || rd.jobs == nil && rd.results == nil) && giveUp.IsZero() {
			giveUp = time.Now().Add(stopBudget)
		}
		if rd.retry != nil && !giveUp.IsZero() && time.Now().After(giveUp) {
			return // the database is away; the node's end frees what is left
		}
		write := k.await(ctx, rd)
		if rd.jobs == nil || rd.results == nil {
			write = true // stopping: nothing waits for company
		}
		if write && rd.retry == nil {
			rd.linger.Stop()
			if !k.write(ctx, rd) {
				rd.retry = time.After(recordRetry)
			}
		}
		if rd.jobs == nil && len(rd.pending) == 0 {
			k.p.ready.end() // the workers stop once every job is marked and sent
		}
	}
}

// await waits for the next thing to do: jobs to take while ready has room
// for half of it, a refill, an outcome, the linger or the retry running
// out, or Stop. It reports whether a write is due.
func (k *marker) await(ctx context.Context, rd *round) bool {
	q := k.p.ready
	var (
		jobs   <-chan store.Claimed
		refill <-chan struct{}
	)
	room := q.room()
	switch {
	case rd.jobs == nil:
		if len(rd.pending) > 0 {
			refill = q.refill
		}
	case rd.releasing || (len(rd.pending) < room && 2*room >= q.size):
		jobs = rd.jobs
	default:
		refill = q.refill
	}
	select {
	case <-rd.stop:
		rd.stop, rd.releasing = nil, true
		rd.released = append(append(rd.released, rd.pending...), q.take()...)
		rd.pending = nil
		rd.jobs = k.gather(ctx, rd, rd.jobs, -1)
		return true
	case m, ok := <-jobs:
		if !ok {
			rd.jobs = nil
			return true
		}
		k.take(ctx, rd, m)
		limit := room
		if rd.releasing {
			limit = -1
		}
		rd.jobs = k.gather(ctx, rd, rd.jobs, limit)
		return true
	case <-refill:
		return len(rd.pending) > 0
	case res, ok := <-rd.results:
		if !ok {
			rd.results = nil
			return true
		}
		rd.add(res)
		if len(rd.sent) == 1 {
			rd.linger.Reset(recordLinger)
		}
		return len(rd.sent) >= recordBatch || rd.releasing
	case <-rd.linger.C:
		return true
	case <-rd.retry:
		rd.retry = nil
		return true
	}
}

// gather takes the jobs there are without waiting, until pending holds
// limit (-1: all of them). It returns nil once jobs is closed.
func (k *marker) gather(ctx context.Context, rd *round, jobs <-chan store.Claimed, limit int) <-chan store.Claimed {
	for jobs != nil && (limit < 0 || len(rd.pending) < limit) {
		select {
		case m, ok := <-jobs:
			if !ok {
				return nil
			}
			k.take(ctx, rd, m)
		default:
			return jobs
		}
	}
	return jobs
}

func (rd *round) add(res result) {
	if res.release {
		rd.released = append(rd.released, res.m)
		return
	}
	rd.sent = append(rd.sent, store.Sent{ID: res.m.ID, Reply: res.reply})
}

// take readies a job for marking, or for release once the marker
// releases.
func (k *marker) take(ctx context.Context, rd *round, m store.Claimed) {
	if rd.releasing {
		rd.released = append(rd.released, m)
		return
	}
	if err := k.r.prepare(ctx, &m); err != nil {
		k.r.persist(ctx, k.p, func(ctx context.Context) error { return k.r.fail(ctx, m, err) })
		k.p.win.done(m.ID)
		return
	}
	rd.pending = append(rd.pending, m)
}

// write writes one round: the marks that fit on ready, every outcome
// there is and every release. It reports false if the write failed; then
// everything stays for the next one (the marks failed: nothing is sent;
// writing the outcomes later beats sending them again).
func (k *marker) write(ctx context.Context, rd *round) bool {
	for more := rd.results != nil; more; { // every outcome there is goes along
		select {
		case res, ok := <-rd.results:
			if !ok {
				rd.results, more = nil, false
				break
			}
			rd.add(res)
		default:
			more = false
		}
	}
	start := rd.pending[:min(len(rd.pending), k.p.ready.room())]
	if len(start)+len(rd.sent)+len(rd.released) == 0 {
		return true
	}
	w, err := k.r.store.Record(ctx, k.r.now(), store.Round{Start: helds(start), Sent: rd.sent, Release: helds(rd.released)})
	if err != nil {
		k.p.keep(err)
		return false
	}
	for _, s := range rd.sent {
		k.p.win.done(s.ID)
	}
	for _, m := range rd.released {
		k.p.win.done(m.ID)
	}
	for _, m := range start {
		if w.May[m.ID] {
			k.p.ready.push(m)
			continue
		}
		// Claimed by another relay since (this node was taken for dead,
		// or the lease ran out): not ours to send.
		k.p.win.done(m.ID)
	}
	k.r.count(func(s *Stats) { s.Sent += int64(len(rd.sent)); s.Released += int64(w.Released) })
	rd.pending = rd.pending[len(start):]
	rd.sent, rd.released = rd.sent[:0], rd.released[:0]
	return true
}

func helds(ms []store.Claimed) []store.Held {
	hs := make([]store.Held, len(ms))
	for i, m := range ms {
		hs[i] = store.Held{ID: m.ID, Attempts: m.Attempts}
	}
	return hs
}

const (
	recordBatch  = 64                     // outcomes that are written at once, without waiting for marks
	recordLinger = 2 * time.Millisecond   // how long an outcome waits for company
	recordRetry  = 250 * time.Millisecond // how long a round waits after a failed write
	stopBudget   = 4 * time.Second        // how long a stopping relay tries to write what is left
)
