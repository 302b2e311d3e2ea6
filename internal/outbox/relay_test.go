package outbox_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/clock"
	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/devmail/devmailtest"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/outbox"
	"github.com/nurture/nurture/internal/outbox/outboxtest"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
)

type bundle struct {
	db    *sqlx.DB
	store *store.Store
	mail  *devmail.Server
	clock *clock.Fake
	relay *outbox.Relay
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return setupWith(t, 0, outbox.Config{Workers: 2})
}

// setupWith is setup with a rate limit on the SMTP pool (0 for none) and
// the relay's config.
func setupWith(t *testing.T, rate float64, cfg outbox.Config) *bundle {
	t.Helper()
	t.Parallel()
	ctx := context.Background()
	st, db := pgtest.NewStore(t)
	mail := devmailtest.Start(t)
	smtpCfg, _ := mailer.ParseURL("smtp://" + mail.SMTPAddr())
	smtpCfg.Rate = rate
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool := mailer.NewPool(smtpCfg, log)
	t.Cleanup(func() { pool.Close(ctx) })
	clk := clock.NewFake(time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC))
	return &bundle{db: db, store: st, mail: mail, clock: clk, relay: outbox.New(st, pool, log, clk.Now, cfg)}
}

// claim claims up to limit messages at now, leased for lease, and wants
// n of them.
func claim(t *testing.T, st *store.Store, now time.Time, lease time.Duration, limit, n int) []store.Claimed {
	t.Helper()
	claimed, err := st.ClaimMessages(context.Background(), now, now.Add(lease), limit, nil)
	if err != nil || len(claimed) != n {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	return claimed
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

// A sender claims three messages, hands two of them to SMTP (it marks
// them first, as its workers do) and dies before recording anything. After
// the lease another sender sends all three; only the two that may have
// arrived already count as repeats.
func TestRelay_ClaimLostInACrashIsSentAfterTheLeaseAndOnlyMailInSMTPCounts(t *testing.T) {
	b := setup(t)
	b.queue(t, 3)
	ctx := context.Background()
	now := b.clock.Now()
	claimed := claim(t, b.store, now, 5*time.Minute, 10, 3)
	start := []store.Held{{ID: claimed[0].ID, Attempts: claimed[0].Attempts}, {ID: claimed[1].ID, Attempts: claimed[1].Attempts}}
	if may, err := b.store.StartSMTP(ctx, now, start, nil); err != nil || len(may) != 2 {
		t.Fatalf("marked %v, %v", may, err)
	}
	if n, _ := b.relay.Drain(ctx); n != 0 {
		t.Fatalf("a leased message was taken by another sender: %d", n)
	}
	b.clock.Advance(5*time.Minute + time.Second)
	if n, err := b.relay.Drain(ctx); n != 3 || err != nil {
		t.Fatalf("after the lease: %d, %v", n, err)
	}
	counts := b.outbox(t)
	if len(counts) != 1 || counts[0].Status != "sent" || counts[0].N != 3 || counts[0].Repeats != 2 {
		t.Fatalf("outbox: %+v, want 3 sent with 2 repeats", counts)
	}
	if got := len(b.mail.Messages()); got != 3 {
		t.Fatalf("%d messages at SMTP", got)
	}
}

// A sender whose lease ran out and whose messages another sender claimed
// may no longer hand them to SMTP: its mark is refused.
func TestRelay_AStaleHolderCannotStartAMessageClaimedByAnother(t *testing.T) {
	b := setup(t)
	b.queue(t, 1)
	ctx := context.Background()
	now := b.clock.Now()
	first := claim(t, b.store, now, time.Minute, 1, 1)
	later := now.Add(2 * time.Minute)
	second, err := b.store.ClaimMessages(ctx, later, later.Add(time.Minute), 1, nil)
	if err != nil || len(second) != 1 || second[0].Attempts != first[0].Attempts+1 {
		t.Fatalf("second claim: %+v, %v", second, err)
	}
	stale := []store.Held{{ID: first[0].ID, Attempts: first[0].Attempts}}
	if may, err := b.store.StartSMTP(ctx, later, stale, nil); err != nil || may[first[0].ID] {
		t.Fatalf("the stale holder may send: %v, %v", may, err)
	}
	current := []store.Held{{ID: second[0].ID, Attempts: second[0].Attempts}}
	if may, err := b.store.StartSMTP(ctx, later, current, nil); err != nil || !may[second[0].ID] {
		t.Fatalf("the current holder may not send: %v, %v", may, err)
	}
}

// A relay that sends slowly (here a rate limit of 10 a second) renews the
// leases of what it holds, so another relay never takes them and every
// mail goes out once.
func TestRelay_RenewsTheLeasesOfWhatItHolds(t *testing.T) {
	b := setupWith(t, 10, outbox.Config{Workers: 1, Lease: 200 * time.Millisecond})
	ctx, db, clk, mail := context.Background(), b.db, b.clock, b.mail
	b.queue(t, 10)
	b.running(t)
	b.relay.Wake()

	// The clock jumps past every lease; the running relay renews them
	// from the new time on.
	clk.Advance(time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n struct{ Held, Expired int }
		err := db.Get(&n, `SELECT count(*) FILTER (WHERE status = 'sending') AS held,
			count(*) FILTER (WHERE status = 'sending' AND locked_until <= $1) AS expired FROM messages`, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if n.Held == 0 {
			t.Fatal("all sent before a lease was renewed: the test proves nothing")
		}
		if n.Expired == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d leases were never renewed", n.Expired)
		}
		time.Sleep(5 * time.Millisecond)
	}
	other := b.relayTo(t, mail.SMTPAddr(), outbox.Config{Workers: 1, Lease: 200 * time.Millisecond})
	if n, err := other.Drain(ctx); n != 0 || err != nil {
		t.Fatalf("another relay took %d held messages, %v", n, err)
	}
	waitSent(t, b.relay, 10)
	if got := len(mail.Messages()); got != 10 {
		t.Fatalf("%d messages at SMTP, want 10", got)
	}
}

// An unreachable server uses up no attempt: however long it is down, the
// mail waits, and goes out once it is back.
func TestRelay_AnOutageLongerThanAllAttemptsLosesNothing(t *testing.T) {
	b := setup(t)
	b.queue(t, 1)
	ctx := context.Background()
	relay := b.relayTo(t, "127.0.0.1:1", outbox.Config{Workers: 1, MaxAttempts: 3}) // nothing listens there
	for range 30 {                                                                  // 30 tries over more than two hours
		if _, err := relay.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(outbox.OutageBackoff(30))
	}
	if s := relay.Stats(); s.Failed != 0 || s.Retried != 30 {
		t.Fatalf("while SMTP was down: %+v", s)
	}
	if n, err := b.relay.Drain(ctx); n != 1 || err != nil {
		t.Fatalf("once SMTP is back: %d, %v", n, err)
	}
	counts := b.outbox(t)
	if len(counts) != 1 || counts[0].Status != "sent" {
		t.Fatalf("outbox: %+v", counts)
	}
}

// Temporary refusals do use up attempts: after MaxAttempts 4xx replies
// the message is given up.
func TestRelay_RefusalsGiveUpAfterMaxAttempts(t *testing.T) {
	b := setupWith(t, 0, outbox.Config{Workers: 1, MaxAttempts: 3})
	b.queue(t, 1)
	ctx := context.Background()
	b.mail.SetRule(devmail.Fail(devmail.AtRcpt, devmail.Reply{Code: 451, Enhanced: "4.3.0", Text: "try later"}))
	relay := b.relay
	for range 5 {
		if _, err := relay.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(time.Hour)
	}
	if s := relay.Stats(); s.Retried != 2 || s.Failed != 1 {
		t.Fatalf("stats: %+v, want 2 retries then failed", s)
	}
	counts := b.outbox(t)
	if len(counts) != 1 || counts[0].Status != "failed" {
		t.Fatalf("outbox: %+v", counts)
	}
}

// The record of a sent message keeps the server's own reply.
func TestRelay_RecordsTheServersReply(t *testing.T) {
	b := setup(t)
	b.queue(t, 1)
	ctx := context.Background()
	if n, err := b.relay.Drain(ctx); n != 1 || err != nil {
		t.Fatalf("drained %d, %v", n, err)
	}
	var reply string
	if err := b.db.Get(&reply, `SELECT smtp_reply FROM messages`); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(reply, "250 ") || len(reply) <= len("250 ") {
		t.Fatalf("smtp_reply %q, want the server's 250 reply", reply)
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

// relayTo is another relay on the bundle's store and clock, sending to the
// SMTP server at addr.
func (b *bundle) relayTo(t *testing.T, addr string, cfg outbox.Config) *outbox.Relay {
	t.Helper()
	smtpCfg, err := mailer.ParseURL("smtp://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	pool := mailer.NewPool(smtpCfg, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { pool.Close(context.Background()) })
	return outbox.New(b.store, pool, slog.New(slog.DiscardHandler), b.clock.Now, cfg)
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
	outboxtest.Run(t, b.relay)
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
	if room := b.relay.Reserve(context.Background(), 5, false); room.N() != 0 {
		t.Fatalf("a relay that is not running reserved room for %d", room.N())
	}
	select {
	case <-b.relay.Started():
		t.Fatal("Started before Run")
	default:
	}
	b.running(t)
	room := b.relay.Reserve(context.Background(), 1000, false)
	// Workers: 2, so the window is 512 mails.
	if room.N() != 512 {
		t.Fatalf("reserved %d, want the whole window of 512", room.N())
	}
	if more := b.relay.Reserve(context.Background(), 1, false); more.N() != 0 {
		t.Fatalf("reserved beyond the window: %d", more.N())
	}
	room.Cancel()
	if again := b.relay.Reserve(context.Background(), 512, false); again.N() != 512 {
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
	a := b.writeLeased(t, room.Until(), "one@example.com")
	c := b.writeLeased(t, room.Until(), "two@example.com")
	room.Hand([]store.Claimed{a, c})
	waitSent(t, b.relay, 2)
	if got := len(b.mail.Messages()); got != 2 {
		t.Fatalf("%d messages at SMTP", got)
	}
	counts := b.outbox(t)
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
	counts := b.outbox(t)
	if len(counts) != 1 || counts[0].Status != "sent" || counts[0].Repeats != 0 {
		t.Fatalf("outbox: %+v (never handed to SMTP, so no repeat)", counts)
	}
}

// A suppressed address gets no mail but the confirmation mail it asked for
// by signing up again.
func TestRelay_SuppressionSparesOnlyConfirmationMails(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	now := b.clock.Now()
	err := b.store.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.Suppress(ctx, lead.EmailHash("left@example.com"), "unsubscribe", now); err != nil {
			return err
		}
		if err := tx.Suppress(ctx, lead.EmailHash("gone@example.com"), "bounce", now); err != nil {
			return err
		}
		for _, m := range []struct{ kind, to string }{
			{"confirmation", "left@example.com"}, {"step", "left@example.com"},
			{"confirmation", "gone@example.com"}, {"step", "gone@example.com"},
		} {
			_, err := tx.QueueMessage(ctx, store.NewMessage{
				Kind: m.kind, MessageID: mailer.NewMessageID("example.com"), From: "a@example.com", To: m.to,
				Raw: []byte("Subject: " + m.kind + "\r\n\r\nhello\r\n"), RunAt: now,
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
	if n, err := b.relay.Drain(ctx); n != 4 || err != nil {
		t.Fatalf("drained %d, %v", n, err)
	}
	var subjects []string
	for _, m := range b.mail.Messages() {
		subjects = append(subjects, m.Subject+" to "+m.To[0])
	}
	slices.Sort(subjects)
	if want := []string{"confirmation to gone@example.com", "confirmation to left@example.com"}; !slices.Equal(subjects, want) {
		t.Fatalf("caught %q, want %q", subjects, want)
	}
	if s := b.relay.Stats(); s.Suppressed != 2 {
		t.Fatalf("stats %+v, want 2 suppressed", s)
	}
}

// A write of outcomes that fails (here once, by a trigger) is tried again:
// the mail SMTP accepted is recorded, and not sent a second time once its
// lease has run out.
func TestRelay_AFailedWriteOfOutcomesIsTriedAgain(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	outbox.FailOnce(b.db, "messages", "WHEN (OLD.status = 'sending' AND NEW.status = 'sent')")
	b.queue(t, 1)
	if n, err := b.relay.Drain(ctx); n != 1 || err == nil {
		t.Fatalf("drained %d, %v; want 1 and the injected failure reported", n, err)
	}
	counts := b.outbox(t)
	if len(counts) != 1 || counts[0].Status != "sent" {
		t.Fatalf("outbox: %+v, want the mail recorded as sent", counts)
	}
	b.clock.Advance(time.Hour)
	if n, _ := b.relay.Drain(ctx); n != 0 {
		t.Fatalf("claimed %d again", n)
	}
	if got := len(b.mail.Messages()); got != 1 {
		t.Fatalf("%d mails at SMTP, want 1", got)
	}
}

// Stopping a running relay (serve's SIGTERM) claims nothing new, finishes
// and records the transaction under way, and gives every mail it holds
// that has not reached SMTP back to the queue, due at once, before Run
// returns: nothing is lost, nothing is left under its claim, and the next
// start sends the rest with no repeat.
func TestRelay_StoppingFinishesAndRecordsWhatItHolds(t *testing.T) {
	b := setupWith(t, 20, outbox.Config{Workers: 1})
	ctx, cancel := context.WithCancel(context.Background())
	b.queue(t, 6)
	done := make(chan struct{})
	go func() { b.relay.Run(ctx); close(done) }()
	waitSent(t, b.relay, 1)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	counts := map[string]int64{}
	all := b.outbox(t)
	for _, c := range all {
		counts[c.Status] = c.N
	}
	if counts["sending"] != 0 || counts["sent"]+counts["queued"] != 6 || counts["sent"] < 1 {
		t.Fatalf("outbox after Run returned: %+v, want every mail sent and recorded or back in the queue", all)
	}
	if got := int64(len(b.mail.Messages())); got != counts["sent"] {
		t.Fatalf("%d mails at SMTP, %d recorded as sent", got, counts["sent"])
	}
	if s := b.relay.Stats(); s.Released != counts["queued"] {
		t.Fatalf("stats %+v, want %d released", s, counts["queued"])
	}
	if n, err := b.relay.Drain(context.Background()); int64(n) != counts["queued"] || err != nil {
		t.Fatalf("the next start sent %d, %v; want the %d released at once", n, err, counts["queued"])
	}
	all = b.outbox(t)
	if len(all) != 1 || all[0].Status != "sent" || all[0].N != 6 || all[0].Repeats != 0 {
		t.Fatalf("outbox: %+v, want all 6 sent with no repeat", all)
	}
	if got := len(b.mail.Messages()); got != 6 {
		t.Fatalf("%d mails at SMTP", got)
	}
}

// outbox is the outbox's count of messages in each status.
func (b *bundle) outbox(t *testing.T) []store.OutboxStatus {
	t.Helper()
	counts, err := b.store.OutboxCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return counts
}

func TestMain(m *testing.M) { os.Exit(pgtest.RunParallel(m, 8)) }
