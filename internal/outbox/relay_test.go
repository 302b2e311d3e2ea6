package outbox_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/clock"
	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/outbox"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
)

type bundle struct {
	store *store.Store
	mail  *devmail.Server
	clock *clock.Fake
	relay *outbox.Relay
}

func setup(t *testing.T) *bundle {
	t.Helper()
	t.Parallel()
	ctx := context.Background()
	db, _ := pgtest.NewDB(t)
	st, err := store.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	mail := devmail.New(devmail.Config{SMTPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
	if err := mail.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mail.Close() })
	cfg, _ := mailer.ParseURL("smtp://" + mail.SMTPAddr())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool := mailer.NewPool(cfg, log)
	t.Cleanup(func() { pool.Close(ctx) })
	clk := clock.NewFake(time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC))
	return &bundle{store: st, mail: mail, clock: clk, relay: outbox.New(st, pool, log, clk.Now, outbox.Config{Workers: 2})}
}

func (b *bundle) queue(t *testing.T, n int) {
	t.Helper()
	err := b.store.WithTx(context.Background(), func(tx *store.Tx) error {
		for i := range n {
			_, err := tx.QueueMessage(context.Background(), store.NewMessage{
				Kind: "test", MessageID: mailer.NewMessageID("example.com"), From: "a@example.com",
				To: "b@example.com", Raw: []byte("Subject: hi\r\n\r\nmessage " + string(rune('a'+i)) + "\r\n"), RunAt: b.clock.Now(),
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRelay_SendsEveryQueuedMessageOnce(t *testing.T) {
	b := setup(t)
	b.queue(t, 25)
	n, err := b.relay.Drain(context.Background())
	if err != nil || n != 25 {
		t.Fatalf("drained %d, %v", n, err)
	}
	if got := len(b.mail.Messages()); got != 25 {
		t.Fatalf("%d messages at SMTP", got)
	}
	if n, _ := b.relay.Drain(context.Background()); n != 0 {
		t.Fatalf("second drain sent %d again", n)
	}
}

func TestRelay_ClaimLostInACrashIsSentAfterTheLeaseAndCounted(t *testing.T) {
	b := setup(t)
	b.queue(t, 3)
	ctx := context.Background()
	// A sender claims the messages and dies before recording anything.
	now := b.clock.Now()
	if claimed, err := b.store.ClaimMessages(ctx, now, now.Add(5*time.Minute), 10); err != nil || len(claimed) != 3 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	if n, _ := b.relay.Drain(ctx); n != 0 {
		t.Fatalf("a leased message was taken by another sender: %d", n)
	}
	b.clock.Advance(5*time.Minute + time.Second)
	if n, err := b.relay.Drain(ctx); n != 3 || err != nil {
		t.Fatalf("after the lease: %d, %v", n, err)
	}
	counts, _ := b.store.OutboxCounts(ctx)
	if len(counts) != 1 || counts[0].Status != "sent" || counts[0].N != 3 || counts[0].Repeats != 3 {
		t.Fatalf("outbox: %+v", counts)
	}
}

func TestRelay_ShutdownFinishesWhatItClaimed(t *testing.T) {
	b := setup(t)
	b.queue(t, 10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // already stopping: claims nothing new, loses nothing
	if n, err := b.relay.Drain(ctx); n != 0 || err != nil {
		t.Fatalf("claimed %d while stopping, %v", n, err)
	}
	if n, _ := b.relay.Drain(context.Background()); n != 10 {
		t.Fatalf("after restart: %d", n)
	}
}

func TestDefaultBackoff_GrowsAndIsCapped(t *testing.T) {
	if outbox.DefaultBackoff(1) != 30*time.Second || outbox.DefaultBackoff(2) != time.Minute || outbox.DefaultBackoff(30) != time.Hour {
		t.Fatal(outbox.DefaultBackoff(1), outbox.DefaultBackoff(2), outbox.DefaultBackoff(30))
	}
}
