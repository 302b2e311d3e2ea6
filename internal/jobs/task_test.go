package jobs_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/jobs"
	"github.com/nurture/nurture/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.RunParallel(m, 4)) }

// Two nodes on one database call Due for the same slots, as their crons
// do: each slot's task runs once, on one of them, and a new slot runs
// again.
func TestDue_TwoNodesRunATaskOncePerSlot(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	ran := map[string]int{} // by node and slot
	var total atomic.Int32
	nodes := make([]*jobs.Queue, 2)
	for i := range nodes {
		q, err := jobs.New(db.DB, jobs.Config{Poll: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		name := string(rune('a' + i))
		q.Task("digest", func(ctx context.Context) error {
			mu.Lock()
			ran[name]++
			mu.Unlock()
			total.Add(1)
			return nil
		})
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Stop(context.Background()) })
		nodes[i] = q
	}
	slot := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for _, s := range []time.Time{slot, slot, slot.Add(time.Minute)} {
		for _, q := range nodes {
			if err := q.Due(ctx, "digest", s); err != nil {
				t.Fatal(err)
			}
		}
	}
	// River keeps one job per task and slot, whichever node queued it.
	var queued int
	if err := db.Get(&queued, `SELECT count(*) FROM river_job WHERE kind = 'task'`); err != nil || queued != 2 {
		t.Fatalf("%d task jobs (%v), want one per slot", queued, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var done int
		if err := db.Get(&done, `SELECT count(*) FROM river_job WHERE kind = 'task' AND state = 'completed'`); err != nil {
			t.Fatal(err)
		}
		if done == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 tasks done after 10 s", done)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := total.Load(); n != 2 {
		t.Errorf("the task ran %d times for two slots (on the nodes: %v); want twice", n, ran)
	}
	if err := nodes[0].Due(ctx, "nothing", slot); !errors.Is(err, jobs.ErrUnknownTask) {
		t.Errorf("Due of a task never registered: %v; want ErrUnknownTask", err)
	}
}
