package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
)

func TestSingleton_TwoHoldersOnlyOneRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, url := pgtest.NewDB(t)
	one, err := store.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { one.Close() })
	// The second holder is another node: its own pool on the same database.
	db2, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	other, err := store.New(ctx, db2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })

	var runs atomic.Int32
	inside, release := make(chan struct{}), make(chan struct{})
	type result struct {
		ran bool
		err error
	}
	first := make(chan result, 1)
	go func() {
		ran, err := one.Singleton(ctx, store.LockPurge, func(context.Context) error {
			runs.Add(1)
			close(inside)
			<-release
			return nil
		})
		first <- result{ran, err}
	}()
	<-inside

	for name, s := range map[string]*store.Store{"another node": other, "the same node": one} {
		ran, err := s.Singleton(ctx, store.LockPurge, func(context.Context) error {
			runs.Add(1)
			return nil
		})
		if ran || err != nil {
			t.Errorf("%s while the lock is held: ran %v, err %v", name, ran, err)
		}
	}
	close(release)
	if r := <-first; !r.ran || r.err != nil {
		t.Fatalf("the holder: ran %v, err %v", r.ran, r.err)
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("fn ran %d times, want once", n)
	}

	// Once released the lock is free again, and fn's error comes back.
	boom := errors.New("boom")
	ran, err := other.Singleton(ctx, store.LockPurge, func(context.Context) error { return boom })
	if !ran || !errors.Is(err, boom) {
		t.Fatalf("after release: ran %v, err %v", ran, err)
	}
	if ran, err := one.Singleton(ctx, store.LockPurge, func(context.Context) error { return nil }); !ran || err != nil {
		t.Fatalf("after a failed run the lock was kept: ran %v, err %v", ran, err)
	}
}
