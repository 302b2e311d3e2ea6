package outbox

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// The renewer keeps the node alive from the clock's time on, renews the
// leases of what is held, and after a failed write (here a trigger that
// fails the first renewal) tries again at the next tick.
func TestRenewer_KeepsTheNodeAndItsLeasesAliveAndRecoversFromAFailedWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st, clk := storeAt(t)
	id, err := st.Join(ctx, clk.Now(), clk.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	failOnce(db, "relay_nodes", "")
	var msg int64
	err = st.WithTx(ctx, func(tx *store.Tx) (err error) {
		msg, err = tx.QueueMessage(ctx, store.NewMessage{Kind: "test", MessageID: "<r@example.com>", From: "a@example.com",
			To: "b@example.com", Raw: []byte("x"), RunAt: clk.Now(), LeaseUntil: clk.Now().Add(time.Second)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	n := &renewer{store: st, log: slog.New(slog.DiscardHandler), now: clk.Now, node: id,
		nodeLease: 50 * time.Millisecond, lease: 40 * time.Millisecond,
		held: func() []store.Held { return []store.Held{{ID: msg, Attempts: 1}} }}
	n.Start(ctx)
	defer n.Stop()
	clk.Advance(time.Hour)
	want := clk.Now()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var got struct {
			Node  time.Time `db:"node"`
			Lease time.Time `db:"lease"`
			By    int64     `db:"by"`
		}
		get(t, db, &got, `SELECT n.alive_until AS node, m.locked_until AS lease, m.claimed_by AS by
			FROM relay_nodes n, messages m WHERE n.id = $1 AND m.id = $2`, id, msg)
		if got.By != id {
			t.Fatalf("leased mail names node %d, want %d", got.By, id)
		}
		if got.Node.After(want) && got.Lease.After(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node alive until %v, lease until %v; want both after %v", got.Node, got.Lease, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
