package groupcommit

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

type item struct {
	Entry
	key    string
	weight int
}

// rig is a queue whose Write records its batches and blocks until the
// test releases it, so a test decides what waits while a batch is written.
type rig struct {
	q       *Queue[*item, string]
	mu      sync.Mutex
	batches [][]*item
	started chan []*item
	release chan error
}

func newRig(t *testing.T, cfg Config[*item, string]) *rig {
	t.Helper()
	r := &rig{started: make(chan []*item, 16), release: make(chan error)}
	cfg.Key = func(it *item) (string, bool) { return it.key, it.key != "" }
	cfg.Weight = func(it *item) int { return it.weight }
	cfg.Write = func(_ context.Context, batch []*item) {
		r.mu.Lock()
		r.batches = append(r.batches, batch)
		r.mu.Unlock()
		r.started <- batch
		err := <-r.release
		for _, it := range batch {
			it.Finish(err)
		}
	}
	r.q = New(cfg)
	return r
}

// do runs Do in a goroutine and returns where its outcome arrives.
func (r *rig) do(ctx context.Context, it *item) <-chan error {
	out := make(chan error, 1)
	go func() { out <- r.q.Do(ctx, it) }()
	return out
}

// waiting returns once n items wait in the queue.
func (r *rig) waiting(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.q.mu.Lock()
		got := len(r.q.queue)
		r.q.mu.Unlock()
		if got == n {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("%d items wait, want %d", got, n)
		case <-time.After(time.Millisecond):
		}
	}
}

func (r *rig) batch(t *testing.T) []*item {
	t.Helper()
	select {
	case b := <-r.started:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no batch was written")
		return nil
	}
}

func keys(b []*item) []string {
	var ks []string
	for _, it := range b {
		ks = append(ks, it.key)
	}
	return ks
}

func TestQueue_WhatWaitsWhileABatchIsWrittenGoesInTheNextOne(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config[*item, string]{})
	ctx := context.Background()
	first := r.do(ctx, &item{key: "a"})
	if got := keys(r.batch(t)); len(got) != 1 {
		t.Fatalf("first batch %v, want one item at once", got)
	}
	var outs []<-chan error
	for _, k := range []string{"b", "c", "d"} {
		outs = append(outs, r.do(ctx, &item{key: k}))
	}
	r.waiting(t, 3)
	r.release <- nil
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got := keys(r.batch(t)); len(got) != 3 {
		t.Fatalf("second batch %v, want the three that waited", got)
	}
	boom := errors.New("boom")
	r.release <- boom
	for _, out := range outs {
		if err := <-out; !errors.Is(err, boom) {
			t.Errorf("outcome %v, want the batch's", err)
		}
	}
	r.q.Wait()
}

func TestQueue_MaxBatchCountsWeight(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config[*item, string]{MaxBatch: 4})
	ctx := context.Background()
	r.do(ctx, &item{})
	r.batch(t)
	for i, w := range []int{3, 1, 2} {
		r.do(ctx, &item{weight: w})
		r.waiting(t, i+1) // in this order
	}
	r.release <- nil
	if got := len(r.batch(t)); got != 2 {
		t.Fatalf("batch of %d items, want 2 (weights 3 and 1 of 4)", got)
	}
	r.release <- nil
	if got := len(r.batch(t)); got != 1 {
		t.Fatalf("batch of %d items, want the last one", got)
	}
	r.release <- nil
	r.q.Wait()
}

func TestQueue_OnePerBatchKeepsAKeyToOneItemAndOneBatch(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config[*item, string]{OnePerBatch: true, MaxWriters: 2})
	ctx := context.Background()
	r.do(ctx, &item{key: "a"})
	r.batch(t)
	// A second writer starts at once (no Spill), but "a" is being
	// written: it takes only "b"; the second "a" waits for the first.
	r.do(ctx, &item{key: "a"})
	r.waiting(t, 1)
	r.do(ctx, &item{key: "b"})
	if got := keys(r.batch(t)); len(got) != 1 || got[0] != "b" {
		t.Fatalf("second writer's batch %v, want [b]", got)
	}
	r.waiting(t, 1)
	r.release <- nil // one of the two batches ends; "a" may go only after the first
	r.release <- nil
	if got := keys(r.batch(t)); len(got) != 1 || got[0] != "a" {
		t.Fatalf("batch %v, want the second a alone", got)
	}
	r.release <- nil
	r.q.Wait()
}

func TestQueue_OnePerBatchTakesOneOfTwoWaiting(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config[*item, string]{OnePerBatch: true})
	ctx := context.Background()
	r.do(ctx, &item{key: "x"})
	r.batch(t)
	r.do(ctx, &item{key: "c"})
	r.waiting(t, 1)
	r.do(ctx, &item{key: "c"})
	r.waiting(t, 2)
	r.release <- nil
	for range 2 {
		if got := keys(r.batch(t)); len(got) != 1 || got[0] != "c" {
			t.Fatalf("batch %v, want one c", got)
		}
		r.release <- nil
	}
	r.q.Wait()
}

func TestQueue_WithoutOnePerBatchOneBatchTakesAllOfAKey(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config[*item, string]{})
	ctx := context.Background()
	r.do(ctx, &item{key: "x"})
	r.batch(t)
	r.do(ctx, &item{key: "m"})
	r.do(ctx, &item{key: "m"})
	r.waiting(t, 2)
	r.release <- nil
	if got := keys(r.batch(t)); len(got) != 2 {
		t.Fatalf("batch %v, want both items of m", got)
	}
	r.release <- nil
	r.q.Wait()
}

func TestQueue_SpillStartsAFurtherWriterOnlyWhenManyWait(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config[*item, string]{MaxWriters: 2, Spill: 2})
	ctx := context.Background()
	r.do(ctx, &item{})
	r.batch(t)
	r.do(ctx, &item{})
	r.do(ctx, &item{})
	r.waiting(t, 2)
	select {
	case b := <-r.started:
		t.Fatalf("a second writer took %d items with only 2 waiting", len(b))
	case <-time.After(20 * time.Millisecond):
	}
	r.do(ctx, &item{}) // the third to wait: more than Spill
	if got := len(r.batch(t)); got != 3 {
		t.Fatalf("second writer's batch of %d, want 3", got)
	}
	r.release <- nil
	r.release <- nil
	r.q.Wait()
}

func TestQueue_AnAbandonedItemIsNeverWritten(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config[*item, string]{})
	r.do(context.Background(), &item{key: "a"})
	r.batch(t)
	ctx, cancel := context.WithCancel(context.Background())
	gone := r.do(ctx, &item{key: "gone"})
	r.waiting(t, 1)
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned item's outcome %v, want context.Canceled", err)
	}
	kept := r.do(context.Background(), &item{key: "kept"})
	r.waiting(t, 2)
	r.release <- nil
	if got := keys(r.batch(t)); len(got) != 1 || got[0] != "kept" {
		t.Fatalf("batch %v, want [kept]", got)
	}
	r.release <- nil
	if err := <-kept; err != nil {
		t.Fatal(err)
	}
	r.q.Wait()
}

func TestQueue_ATakenItemWaitsForItsBatchUnlessDetached(t *testing.T) {
	t.Parallel()
	for _, detach := range []bool{false, true} {
		r := newRig(t, Config[*item, string]{Detach: detach})
		ctx, cancel := context.WithCancel(context.Background())
		out := r.do(ctx, &item{})
		r.batch(t)
		cancel()
		if detach {
			if err := <-out; !errors.Is(err, context.Canceled) {
				t.Fatalf("detached: %v, want context.Canceled at once", err)
			}
			r.release <- nil
		} else {
			select {
			case err := <-out:
				t.Fatalf("returned %v before its batch was written", err)
			case <-time.After(20 * time.Millisecond):
			}
			r.release <- nil
			if err := <-out; err != nil {
				t.Fatalf("taken item's outcome %v, want its batch's (nil)", err)
			}
		}
		r.q.Wait()
	}
}

func TestQueue_ADoneContextQueuesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config[*item, string]{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.q.Do(ctx, &item{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled", err)
	}
	r.q.Wait()
	if len(r.batches) != 0 {
		t.Fatalf("%d batches written", len(r.batches))
	}
}

func TestQueue_ABatchContextOutlivesItsFirstCallerAndHasATimeout(t *testing.T) {
	t.Parallel()
	got, proceed := make(chan context.Context, 1), make(chan struct{})
	var alive bool
	q := New(Config[*item, string]{Timeout: time.Minute, Detach: true, Write: func(ctx context.Context, b []*item) {
		got <- ctx
		<-proceed
		alive = ctx.Err() == nil
		for _, it := range b {
			it.Finish(nil)
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan error, 1)
	go func() { out <- q.Do(ctx, &item{}) }()
	bctx := <-got
	cancel()
	if err := <-out; !errors.Is(err, context.Canceled) {
		t.Fatalf("detached caller: %v", err)
	}
	if d, ok := bctx.Deadline(); !ok || time.Until(d) > time.Minute {
		t.Errorf("batch deadline %v, %v; want within the timeout", d, ok)
	}
	close(proceed)
	q.Wait()
	if !alive {
		t.Error("the batch's context ended with its first caller's")
	}
}

func TestQueue_DoWithinGivesUpAfterItsWait(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config[*item, string]{Detach: true})
	ctx := context.Background()
	r.do(ctx, &item{key: "a"})
	r.batch(t) // the writer is busy: the next item waits in the queue
	out := make(chan error, 1)
	go func() { out <- r.q.DoWithin(ctx, &item{key: "late"}, 10*time.Millisecond) }()
	if err := <-out; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued item's outcome %v, want context.DeadlineExceeded", err)
	}
	r.release <- nil
	r.q.Wait()
	for _, b := range r.batches {
		if slices.Contains(keys(b), "late") {
			t.Fatalf("the item given up was written in batch %v", keys(b))
		}
	}
	// A reused timer of a call that ended early fires for no later call.
	for range 3 {
		go func() { out <- r.q.DoWithin(ctx, &item{}, time.Hour) }()
		r.batch(t)
		r.release <- nil
		if err := <-out; err != nil {
			t.Fatalf("outcome %v, want the batch's (nil)", err)
		}
	}
	r.q.Wait()
}
