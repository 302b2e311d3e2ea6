package outbox

import (
	"context"
	"sync"

	"github.com/nurture/nurture/internal/store"
)

// window is the relay's in-flight window: it bounds the messages claimed
// or reserved and not yet recorded, and knows which ones the relay holds.
// A token is taken before a message is claimed or reserved, and given back
// once its outcome is written (done). Stop makes waiting callers of
// acquire, and every later one, get nothing.
type window struct {
	service
	tokens chan struct{}
	gather sync.Mutex // held by a waiting caller of acquire

	mu   sync.Mutex
	held map[int64]int // id → attempts
}

func newWindow(size int) *window {
	return &window{tokens: make(chan struct{}, size), held: map[int64]int{}}
}

// Start opens the window.
func (w *window) Start() { w.startWith(func(stop <-chan struct{}) { <-stop }) }

// acquire takes up to n tokens: when wait is set, it waits for at least
// half of them (so claims come in batches), then takes what is free
// without waiting. It returns how many it took. One waiting caller at a
// time gathers: two holding part of the window each while waiting for more
// could wait for each other forever. A caller that does not wait needs no
// turn, and never waits for one.
func (w *window) acquire(ctx context.Context, n int, wait bool) int {
	stop := w.stopping()
	if stop == nil || isClosed(stop) {
		return 0
	}
	if wait {
		w.gather.Lock()
		defer w.gather.Unlock()
	}
	got := 0
	for got < n {
		select {
		case w.tokens <- struct{}{}:
			got++
			continue
		default:
		}
		if !wait || got >= (n+1)/2 {
			break
		}
		select {
		case w.tokens <- struct{}{}:
			got++
		case <-ctx.Done():
			w.release(got)
			return 0
		case <-stop:
			w.release(got)
			return 0
		}
	}
	return got
}

func (w *window) release(n int) {
	for range n {
		<-w.tokens
	}
}

// hold notes that the relay holds m.
func (w *window) hold(m store.Claimed) {
	w.mu.Lock()
	w.held[m.ID] = m.Attempts
	w.mu.Unlock()
}

// done forgets a message whose outcome is written, or that is not ours,
// and frees its token.
func (w *window) done(id int64) {
	w.mu.Lock()
	delete(w.held, id)
	w.mu.Unlock()
	w.release(1)
}

func (w *window) heldIDs() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]int64, 0, len(w.held))
	for id := range w.held {
		ids = append(ids, id)
	}
	return ids
}

func (w *window) heldMessages() []store.Held {
	w.mu.Lock()
	defer w.mu.Unlock()
	hs := make([]store.Held, 0, len(w.held))
	for id, attempts := range w.held {
		hs = append(hs, store.Held{ID: id, Attempts: attempts})
	}
	return hs
}

// holding is how many messages the relay holds.
func (w *window) holding() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.held)
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
