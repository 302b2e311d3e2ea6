package outboxtest

import (
	"context"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/outbox"
)

// Run runs r in the background until the test ends, and returns once it
// takes reservations.
func Run(t testing.TB, r *outbox.Relay) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-r.Started():
	case <-time.After(10 * time.Second):
		t.Fatal("the relay did not start")
	}
}
