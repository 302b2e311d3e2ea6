package groupcommit

import (
	"cmp"
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Entry is what the queue keeps of an item: embed it in the item's struct.
type Entry struct {
	ctx   context.Context
	state atomic.Int32
	done  chan error
}

func (e *Entry) entry() *Entry { return e }

// Finish gives the item the outcome of its batch. Write calls it exactly
// once for every item of the batch it was given.
func (e *Entry) Finish(err error) { e.done <- err }

// Item is a pointer to a struct that embeds Entry.
type Item interface{ entry() *Entry }

const (
	queued int32 = iota
	taken
	abandoned
)

// Config tunes a queue of items T whose keys, if any, are K.
type Config[T Item, K comparable] struct {
	MaxBatch   int // most weight in one batch (default 128)
	MaxWriters int // batches written at once (default 1)
	// Spill is how many items must wait before a further writer starts:
	// until then the one writer's next batch takes them all, and one batch
	// of many costs less per item than two of few. 0 starts one at once.
	Spill int
	// Timeout bounds the writing of a batch (default 30s). A batch's
	// context is its first item's without its cancellation: the batch
	// belongs to all its callers.
	Timeout time.Duration
	// Weight is an item's share of MaxBatch (default 1).
	Weight func(T) int
	// Key, when it reports true, names what an item never shares with a
	// batch that another writer is writing at the same time.
	Key func(T) (K, bool)
	// OnePerBatch also keeps two items of one key out of the same batch:
	// the second waits for the next.
	OnePerBatch bool
	// Detach makes a caller whose context ends after its item was taken
	// return at once; by default it waits for the batch's outcome.
	Detach bool
	// Write writes the batch and calls Finish on each of its items.
	Write func(ctx context.Context, batch []T)
}

// Queue is a group commit queue; New makes one.
type Queue[T Item, K comparable] struct {
	cfg Config[T, K]

	mu       sync.Mutex
	queue    []T
	running  int       // writer goroutines
	inFlight map[K]int // keys in batches being written, with their items
	idle     *sync.Cond
}

// New returns a queue that writes with cfg.Write.
func New[T Item, K comparable](cfg Config[T, K]) *Queue[T, K] {
	cfg.MaxBatch = cmp.Or(cfg.MaxBatch, 128)
	cfg.MaxWriters = cmp.Or(cfg.MaxWriters, 1)
	cfg.Timeout = cmp.Or(cfg.Timeout, 30*time.Second)
	q := &Queue[T, K]{cfg: cfg, inFlight: map[K]int{}}
	q.idle = sync.NewCond(&q.mu)
	return q
}

// Do queues it and waits until its batch has been written, and returns
// the outcome Write gave it, or until ctx is done. An item not taken by
// then is never written.
func (q *Queue[T, K]) Do(ctx context.Context, it T) error { return q.DoWithin(ctx, it, 0) }

// DoWithin is Do that also gives up after wait, if not 0, with
// context.DeadlineExceeded: as a deadline on ctx would, without a context
// and a timer made for each call (the timers are reused).
func (q *Queue[T, K]) DoWithin(ctx context.Context, it T, wait time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e := it.entry()
	e.ctx, e.done = ctx, make(chan error, 1)
	q.mu.Lock()
	q.queue = append(q.queue, it)
	if q.running == 0 || (q.running < q.cfg.MaxWriters && len(q.queue) > q.cfg.Spill) {
		q.running++
		go q.run()
	}
	q.mu.Unlock()
	var expired <-chan time.Time
	if wait > 0 {
		t := startTimer(wait)
		defer stopTimer(t)
		expired = t.C
	}
	var err error
	select {
	case err := <-e.done:
		return err
	case <-ctx.Done():
		err = ctx.Err()
	case <-expired:
		err = context.DeadlineExceeded
	}
	if e.state.CompareAndSwap(queued, abandoned) || q.cfg.Detach {
		return err
	}
	return <-e.done // taken already: the outcome is the batch's
}

// timers are DoWithin's stopped timers, for the next call: one made and
// dropped per call cost an allocation and more time than reusing one (a
// stopped timer's channel holds no stale tick since Go 1.23).
var timers sync.Pool

func startTimer(d time.Duration) *time.Timer {
	if t, ok := timers.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

func stopTimer(t *time.Timer) {
	t.Stop()
	timers.Put(t)
}

// Wait returns once no batch is being written.
func (q *Queue[T, K]) Wait() {
	q.mu.Lock()
	for q.running > 0 {
		q.idle.Wait()
	}
	q.mu.Unlock()
}

func (q *Queue[T, K]) run() {
	var batch []T
	for {
		if batch = q.take(batch); batch == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].entry().ctx), q.cfg.Timeout)
		q.cfg.Write(ctx, batch)
		cancel()
	}
}

func (q *Queue[T, K]) key(it T) (k K, ok bool) {
	if q.cfg.Key == nil {
		return k, false
	}
	return q.cfg.Key(it)
}

func (q *Queue[T, K]) weight(it T) int {
	if q.cfg.Weight == nil {
		return 1
	}
	return max(1, q.cfg.Weight(it))
}

// take ends the writer's previous batch, done, and removes the next batch
// from the queue, oldest first: up to MaxBatch of weight, leaving the items
// whose key another batch being written has. It stops the writer and
// returns nil when there are none.
func (q *Queue[T, K]) take(done []T) []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range done {
		if k, ok := q.key(it); ok {
			if q.inFlight[k]--; q.inFlight[k] <= 0 {
				delete(q.inFlight, k)
			}
		}
	}
	var batch []T
	mine := map[K]bool{}
	size := 0
	rest := q.queue[:0]
	for _, it := range q.queue {
		e := it.entry()
		k, keyed := q.key(it)
		busy := keyed && q.inFlight[k] > 0 && (q.cfg.OnePerBatch || !mine[k])
		switch {
		case e.state.Load() == abandoned:
		case size >= q.cfg.MaxBatch || busy:
			rest = append(rest, it)
		case e.state.CompareAndSwap(queued, taken):
			if keyed {
				q.inFlight[k]++
				mine[k] = true
			}
			batch = append(batch, it)
			size += q.weight(it)
		}
	}
	clear(q.queue[len(rest):])
	q.queue = rest
	if len(batch) == 0 {
		q.running--
		q.idle.Broadcast()
		return nil
	}
	return batch
}
