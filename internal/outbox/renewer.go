package outbox

import (
	"context"
	"log/slog"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// renewer keeps the relay's claims its own: it renews the node's life
// every tick, a few times per NodeLease, and the leases of the messages
// the relay holds a few times per Lease. When a write fails (the database
// is away) it tries again at every tick, and once one succeeds it renews
// every lease at once: what the relay holds is its own again as soon as
// the database is back.
type renewer struct {
	service
	store     *store.Store
	log       *slog.Logger
	now       func() time.Time
	node      int64
	nodeLease time.Duration
	lease     time.Duration
	held      func() []store.Held
}

func (n *renewer) tick() time.Duration { return min(n.nodeLease/5, n.lease/4) }

// Start runs the renewer.
func (n *renewer) Start(ctx context.Context) {
	n.startWith(func(stop <-chan struct{}) { n.run(ctx, stop) })
}

func (n *renewer) run(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(n.tick())
	defer t.Stop()
	lastLeases := time.Now()
	failing := false
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		err := n.store.RenewNode(ctx, n.node, n.now().Add(n.nodeLease))
		if err == nil && (failing || time.Since(lastLeases) >= n.lease/4) {
			err = n.store.RenewLeases(ctx, n.held(), n.now().Add(n.lease))
			lastLeases = time.Now()
		}
		switch {
		case err != nil && !failing:
			n.log.Error("outbox: renew claims; trying again every tick", "err", err, "tick", n.tick())
			failing = true
		case err == nil && failing:
			n.log.Info("outbox: claims renewed again")
			failing = false
		}
	}
}
