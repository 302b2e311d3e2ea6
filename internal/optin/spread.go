package optin

import (
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// spread runs fn(i) for every i below n on as many goroutines as there are
// cores, each taking the next i until none is left, and returns the first
// error. Composing a batch's mails this way starts a goroutine per core,
// not per mail: each grows its stack to what composing needs once per
// batch, where a goroutine per mail grew a fresh one for every mail.
func spread(n int, fn func(i int) error) error {
	var next atomic.Int64
	var g errgroup.Group
	for range min(n, runtime.GOMAXPROCS(0)) {
		g.Go(func() error {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := fn(i); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}
