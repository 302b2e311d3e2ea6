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
	if claimed, err := b.store.ClaimMessages(ctx, now, now.Add(5*time.Minute), 10, nil); err != nil || len(claimed) != 3 {
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

// writeLeased writes one mail as claimed under room's lease, as a producer
// does, and returns it as the relay is handed it.
func (b *bundle) writeLeased(t *testing.T, until time.Time, to string) store.Claimed {
	t.Helper()
	m := store.NewMessage{
		Kind: "test", MessageID: mailer.NewMessageID("example.com"), From: "a@example.com", To: to,
		Raw: []byte("Subject: handed\r\n\r\nstraight from the transaction\r\n"), RunAt: b.clock.Now(), LeaseUntil: until,
	}
	var id int64
	err := b.store.WithTx(context.Background(), func(tx *store.Tx) (err error) {
		id, err = tx.QueueMessage(context.Background(), m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return store.Claimed{ID: id, Kind: m.Kind, From: m.From, To: m.To, Raw: m.Raw, Attempts: 1}
}

// running starts Run and returns once it takes reservations.
func (b *bundle) running(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.relay.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for {
		if room := b.relay.Reserve(ctx, 1, false); room != nil {
			room.Cancel()
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func waitSent(t *testing.T, r *outbox.Relay, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().Sent < n {
		if time.Now().After(deadline) {
			t.Fatalf("sent %d of %d", r.Stats().Sent, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRelay_ReservesRoomOnlyWhileRunning(t *testing.T) {
	b := setup(t)
	if room := b.relay.Reserve(context.Background(), 5, false); room != nil || room.N() != 0 {
		t.Fatalf("a relay that is not running reserved room for %d", room.N())
	}
	b.running(t)
	room := b.relay.Reserve(context.Background(), 1000, false)
	// Workers: 2, so the window is 256 mails.
	if room.N() != 256 {
		t.Fatalf("reserved %d, want the whole window of 256", room.N())
	}
	if more := b.relay.Reserve(context.Background(), 1, false); more != nil {
		t.Fatalf("reserved beyond the window: %d", more.N())
	}
	room.Cancel()
	if again := b.relay.Reserve(context.Background(), 256, false); again.N() != 256 {
		t.Fatalf("a cancelled reservation kept its room: %d free", again.N())
	} else {
		again.Cancel()
	}
}

func TestRelay_HandedMailIsSentOnceAndRecorded(t *testing.T) {
	b := setup(t)
	b.running(t)
	ctx := context.Background()
	room := b.relay.Reserve(ctx, 2, false)
	a := b.writeLeased(t, room.Until, "one@example.com")
	c := b.writeLeased(t, room.Until, "two@example.com")
	room.Hand([]store.Claimed{a, c})
	waitSent(t, b.relay, 2)
	if got := len(b.mail.Messages()); got != 2 {
		t.Fatalf("%d messages at SMTP", got)
	}
	counts, _ := b.store.OutboxCounts(ctx)
	if len(counts) != 1 || counts[0].Status != "sent" || counts[0].N != 2 || counts[0].Repeats != 0 {
		t.Fatalf("outbox: %+v", counts)
	}
	// Handed mail is never claimed from the outbox as well, not even once
	// its lease has run out.
	b.clock.Advance(time.Hour)
	if n, _ := b.relay.Drain(ctx); n != 0 {
		t.Fatalf("claimed %d handed messages again", n)
	}
}

func TestRelay_LeasedMailOfACrashedProducerIsSentAfterTheLease(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	// A producer wrote the mail leased and died before handing it over.
	b.writeLeased(t, b.clock.Now().Add(5*time.Minute), "lost@example.com")
	if n, _ := b.relay.Drain(ctx); n != 0 {
		t.Fatalf("a leased message was claimed within its lease: %d", n)
	}
	b.clock.Advance(5*time.Minute + time.Second)
	if n, err := b.relay.Drain(ctx); n != 1 || err != nil {
		t.Fatalf("after the lease: %d, %v", n, err)
	}
	counts, _ := b.store.OutboxCounts(ctx)
	if len(counts) != 1 || counts[0].Status != "sent" || counts[0].Repeats != 1 {
		t.Fatalf("outbox: %+v (the unknown outcome counts as a possible repeat)", counts)
	}
}
