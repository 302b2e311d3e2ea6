package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// The marker marks a message before a worker can take it, and no more than
// ready holds; it records the outcome a worker reports; stopped, it gives
// back everything not yet in SMTP, mark cleared, due at once.
func TestMarker_MarksBeforeReadyRecordsAfterAndReleasesOnStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st, clk := storeAt(t)
	err := st.WithTx(ctx, func(tx *store.Tx) error {
		for i := range 10 {
			_, err := tx.QueueMessage(ctx, store.NewMessage{Kind: "test", MessageID: fmt.Sprintf("<%d@example.com>", i),
				From: "a@example.com", To: "b@example.com", Raw: []byte("x"), RunAt: clk.Now()})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := st.ClaimMessages(ctx, clk.Now(), clk.Now().Add(time.Minute), 10, nil)
	if err != nil || len(claimed) != 10 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	r := &Relay{store: st, log: slog.New(slog.DiscardHandler), now: clk.Now}
	p := &pipeline{r: r, win: newWindow(16), ready: newReady(4), jobs: make(chan store.Claimed, 16),
		results: make(chan result, 16), closing: make(chan struct{})}
	p.win.Start()
	p.win.acquire(ctx, len(claimed), false)
	k := &marker{r: r, p: p, jobs: p.jobs, results: p.results}
	k.Start(ctx)
	for _, m := range claimed {
		p.win.hold(m)
		p.jobs <- m
	}
	marked := func() (n int) {
		get(t, db, &n, `SELECT count(*) FROM messages WHERE smtp_started_at IS NOT NULL`)
		return n
	}
	first, _ := p.ready.pop()
	if n := marked(); n != 4 {
		t.Fatalf("%d marked once a worker took the first, want the 4 ready holds", n)
	}
	var at *time.Time
	get(t, db, &at, `SELECT smtp_started_at FROM messages WHERE id = $1`, first.ID)
	if at == nil {
		t.Fatal("a message was on ready before it was marked")
	}
	p.results <- result{m: first, reply: "250 2.0.0 queued"}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var status string
		get(t, db, &status, `SELECT status FROM messages WHERE id = $1`, first.ID)
		if status == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outcome not recorded: %s", status)
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(p.jobs)
	stopped := make(chan struct{})
	go func() { k.Stop(); close(stopped) }()
	close(p.results)
	<-stopped
	var n struct {
		Sent, Queued, Marked int
	}
	get(t, db, &n, `SELECT count(*) FILTER (WHERE status = 'sent') AS sent, count(*) FILTER (WHERE status = 'queued') AS queued,
		count(*) FILTER (WHERE status = 'queued' AND smtp_started_at IS NOT NULL) AS marked FROM messages`)
	if n.Sent != 1 || n.Queued != 9 || n.Marked != 0 {
		t.Fatalf("after Stop: %+v, want 1 sent and 9 queued without marks", n)
	}
	if w := p.win.holding(); w != 0 {
		t.Fatalf("the window still holds %d", w)
	}
}
