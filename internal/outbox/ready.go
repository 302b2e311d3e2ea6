package outbox

import (
	"sync"

	"github.com/nurture/nurture/internal/store"
)

// ready is the queue of marked messages the SMTP workers take from. The
// marker fills it to its capacity and is told (refill) once a worker took
// it down to half. A message a worker popped is that worker's to send: the
// queue hands each one out once, and what is left when the relay stops is
// taken back whole (take), so nothing is both sent and released.
type ready struct {
	mu     sync.Mutex
	cond   sync.Cond
	ms     []store.Claimed
	size   int
	ended  bool // no more pushes; pop empties what is left
	refill chan struct{}
}

// readyPerWorker is how many marked messages ready holds per SMTP worker.
// The marker marks what ready has room for once it is down to half, so
// half of this is how many a worker has left to send while a round is
// written, and also the size of a round. At 4, the workers of a busy relay
// ran dry while the round that refilled ready was written, and a round of
// 4 connections wrote 16 rows (8 marks, 8 replies); BenchmarkDispatchThroughput
// saw the pipeline at 0.86× the raw loop. At 8 it was 0.84–0.93× in three
// runs, and at 16 0.95× (rounds 0.91–1.08×), with rounds of about 60 rows
// and 72 µs of Postgres's CPU time per mail. The cost is that a crash
// leaves up to this many messages per connection marked that never reached
// the server: each is counted in repeats when claimed again, as a mail that
// may have arrived.
const readyPerWorker = 16

func newReady(size int) *ready {
	q := &ready{size: size, refill: make(chan struct{}, 1)}
	q.cond.L = &q.mu
	return q
}

// room is how many more messages it takes.
func (q *ready) room() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.size - len(q.ms)
}

func (q *ready) push(m store.Claimed) {
	q.mu.Lock()
	q.ms = append(q.ms, m)
	q.mu.Unlock()
	q.cond.Signal()
}

// pop waits for a message; it reports false once the queue has ended and
// is empty.
func (q *ready) pop() (store.Claimed, bool) {
	q.mu.Lock()
	for len(q.ms) == 0 && !q.ended {
		q.cond.Wait()
	}
	if len(q.ms) == 0 {
		q.mu.Unlock()
		return store.Claimed{}, false
	}
	return q.shift(), true
}

// tryPop is pop that does not wait: it reports false when the queue is
// empty.
func (q *ready) tryPop() (store.Claimed, bool) {
	q.mu.Lock()
	if len(q.ms) == 0 {
		q.mu.Unlock()
		return store.Claimed{}, false
	}
	return q.shift(), true
}

// shift takes the first message, unlocks, and asks for a refill once the
// queue is down to half.
func (q *ready) shift() store.Claimed {
	m := q.ms[0]
	q.ms = q.ms[1:]
	low := 2*len(q.ms) <= q.size
	q.mu.Unlock()
	if low {
		select {
		case q.refill <- struct{}{}:
		default:
		}
	}
	return m
}

// end lets the workers empty the queue, then stop.
func (q *ready) end() {
	q.mu.Lock()
	q.ended = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// take ends the queue and returns what no worker took.
func (q *ready) take() []store.Claimed {
	q.mu.Lock()
	q.ended = true
	ms := q.ms
	q.ms = nil
	q.mu.Unlock()
	q.cond.Broadcast()
	return ms
}
