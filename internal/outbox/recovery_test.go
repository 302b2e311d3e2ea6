package outbox_test

import (
	"context"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/logtest"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/outbox"
	"github.com/nurture/nurture/internal/store"
)

// relayWith is another relay on the bundle's store and clock, sending to
// the bundle's catcher through a pool edited by edit, logging to log.
func (b *bundle) relayWith(t *testing.T, log *slog.Logger, cfg outbox.Config, edit func(*mailer.Config)) *outbox.Relay {
	t.Helper()
	smtpCfg, err := mailer.ParseURL("smtp://" + b.mail.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&smtpCfg)
	}
	pool := mailer.NewPool(smtpCfg, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { pool.Close(context.Background()) })
	return outbox.New(b.store, pool, log, b.clock.Now, cfg)
}

// run runs r until the test ends, or until the returned stop is called;
// stop returns Run's error.
func run(t *testing.T, r *outbox.Relay) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("Run did not return")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (b *bundle) statuses(t *testing.T) (map[string]int64, int64) {
	t.Helper()
	all, err := b.store.OutboxCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n, repeats := map[string]int64{}, int64(0)
	for _, c := range all {
		n[c.Status] = c.N
		repeats += c.Repeats
	}
	return n, repeats
}

// Another process claims mail, hands one of it to SMTP and dies (kill -9):
// its node stops renewing. Its claims hold while the node counts as alive,
// and fall to any node as soon as its node lease has run out, five
// seconds, not the five-minute lease; only the mail it had handed to SMTP
// counts as a repeat.
func TestRelay_MailOfADeadNodeIsClaimedOnceItsNodeLeaseRunsOut(t *testing.T) {
	b := setup(t)
	b.queue(t, 3)
	ctx := context.Background()
	other, err := store.New(ctx, b.db)
	if err != nil {
		t.Fatal(err)
	}
	now := b.clock.Now()
	if _, err := other.Join(ctx, now, now.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	claimed := claim(t, other, now, 5*time.Minute, 10, 3)
	if may, err := other.StartSMTP(ctx, now, []store.Held{{ID: claimed[0].ID, Attempts: claimed[0].Attempts}}, nil); err != nil || len(may) != 1 {
		t.Fatalf("marked %v, %v", may, err)
	}
	b.clock.Advance(4 * time.Second)
	if n, _ := b.relay.Drain(ctx); n != 0 {
		t.Fatalf("took %d messages of a node that is alive", n)
	}
	b.clock.Advance(time.Second)
	if n, err := b.relay.Drain(ctx); n != 3 || err != nil {
		t.Fatalf("once the node is dead: %d, %v", n, err)
	}
	if n, repeats := b.statuses(t); n["sent"] != 3 || repeats != 1 {
		t.Fatalf("outbox %v with %d repeats, want 3 sent, 1 repeat", n, repeats)
	}
}

// A running relay renews its node, so its claims stay its own while the
// clock moves past its node lease many times over.
func TestRelay_ARunningNodeKeepsItsClaims(t *testing.T) {
	b := setupWith(t, 5, outbox.Config{Workers: 1, NodeLease: 100 * time.Millisecond})
	b.queue(t, 20)
	b.running(t)
	b.relay.Wake()
	waitSent(t, b.relay, 1)
	b.clock.Advance(time.Minute) // within the leases, far past the node lease unless renewed
	ctx := context.Background()
	// The barrier: the node has renewed itself past the new time.
	eventually(t, "the node renewed past the advanced clock", func() bool {
		var alive int
		if err := b.db.Get(&alive, `SELECT count(*) FROM relay_nodes WHERE alive_until > $1`, b.clock.Now()); err != nil {
			t.Fatal(err)
		}
		return alive == 1
	})
	st, err := store.New(ctx, b.db) // another process
	if err != nil {
		t.Fatal(err)
	}
	smtpCfg, _ := mailer.ParseURL("smtp://" + b.mail.SMTPAddr())
	pool := mailer.NewPool(smtpCfg, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { pool.Close(ctx) })
	other := outbox.New(st, pool, slog.New(slog.DiscardHandler), b.clock.Now, outbox.Config{Workers: 1})
	if n, err := other.Drain(ctx); err != nil || n > 0 {
		t.Fatalf("another node took %d messages of a live one, %v", n, err)
	}
}

// SIGTERM while the server takes its time: the transaction under way
// finishes and is recorded, and everything else the relay holds is back
// in the queue before that transaction ends, so another node or the next
// start sends it at once, with no repeat.
func TestRelay_StopReleasesWhatIsNotInSMTPWithoutWaitingForASlowServer(t *testing.T) {
	b := setupWith(t, 0, outbox.Config{Workers: 1})
	stalled, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b.mail.SetRule(func(stage devmail.Stage, _, _ string) *devmail.Reply {
		if stage == devmail.AtData {
			once.Do(func() { close(stalled); <-release })
		}
		return nil
	})
	b.queue(t, 50)
	stop := run(t, b.relay)
	b.relay.Wake()
	select {
	case <-stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("no transaction began")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// The next mail's commands went out behind the stalled one's data
	// (pipelining): it goes back once that transaction ends; the rest at
	// once.
	eventually(t, "48 mails back in the queue", func() bool { n, _ := b.statuses(t); return n["queued"] == 48 })
	select {
	case <-stopped:
		t.Fatal("Run returned before the transaction under way ended")
	default:
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n, _ := b.statuses(t); n["sent"] != 1 || n["queued"] != 49 || n["sending"] != 0 {
		t.Fatalf("outbox %v, want 1 sent and 49 queued", n)
	}
	if s := b.relay.Stats(); s.Released != 49 || s.Sent != 1 {
		t.Fatalf("stats %+v", s)
	}
	other := b.relayTo(t, b.mail.SMTPAddr(), outbox.Config{Workers: 2})
	if n, err := other.Drain(context.Background()); n != 49 || err != nil {
		t.Fatalf("the next node sent %d, %v", n, err)
	}
	if n, repeats := b.statuses(t); n["sent"] != 50 || repeats != 0 {
		t.Fatalf("outbox %v with %d repeats", n, repeats)
	}
}

// SMTP refusing connections pauses the running relay as a whole: one line
// when the outage starts, one per OutageLog while it lasts, one when it
// ends; no mail is rescheduled, and sending resumes within a second of the
// server's return.
func TestRelay_AnOutagePausesTheRelayAndSendingResumesAtOnce(t *testing.T) {
	b := setup(t)
	var logs logtest.Buffer
	relay := b.relayWith(t, logs.Logger(slog.LevelInfo), outbox.Config{Workers: 2, OutageLog: 50 * time.Millisecond}, nil)
	if err := b.mail.StopSMTP(); err != nil {
		t.Fatal(err)
	}
	b.queue(t, 20)
	run(t, relay)
	relay.Wake()
	eventually(t, "the outage logged as lasting", func() bool { return logs.Count("SMTP still unreachable") >= 2 })
	if err := b.mail.StartSMTP(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	waitSent(t, relay, 20)
	if took := time.Since(back); took > 2*time.Second {
		t.Fatalf("sending resumed %v after the server came back", took)
	}
	eventually(t, "the end of the outage logged", func() bool { return logs.Count("SMTP reachable again") == 1 })
	if n := logs.Count("SMTP unreachable, sending paused"); n != 1 {
		t.Fatalf("%d lines for the start of one outage", n)
	}
	if n := logs.Count("will retry"); n != 0 {
		t.Fatalf("%d lines of mail rescheduled one by one", n)
	}
	if s := relay.Stats(); s.Retried != 0 {
		t.Fatalf("stats %+v: mail rescheduled", s)
	}
	if n, repeats := b.statuses(t); n["sent"] != 20 || repeats != 0 {
		t.Fatalf("outbox %v with %d repeats", n, repeats)
	}
}

// A server that takes the data and stalls past ReplyTimeout, then accepts
// the mail after all: the relay sends it again, and the copy it may have
// delivered twice is counted in repeats.
func TestRelay_AMailWhoseReplyNeverCameCountsAsARepeat(t *testing.T) {
	b := setup(t)
	var calls atomic.Int32
	b.mail.SetRule(func(stage devmail.Stage, _, _ string) *devmail.Reply {
		if stage == devmail.AtData && calls.Add(1) == 1 {
			time.Sleep(600 * time.Millisecond) // the first copy is taken after the client gave up
		}
		return nil
	})
	relay := b.relayWith(t, slog.New(slog.DiscardHandler), outbox.Config{Workers: 1},
		func(c *mailer.Config) { c.ReplyTimeout = 200 * time.Millisecond })
	b.queue(t, 1)
	ctx := context.Background()
	if n, err := relay.Drain(ctx); n != 1 || err != nil {
		t.Fatalf("drained %d, %v", n, err)
	}
	if s := relay.Stats(); s.NoReply != 1 {
		t.Fatalf("stats %+v, want 1 without reply", s)
	}
	if n, err := relay.Drain(ctx); n != 1 || err != nil {
		t.Fatalf("sent again: %d, %v; want the mail at once", n, err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := b.mail.WaitCount(waitCtx, 2); err != nil {
		t.Fatal(err)
	}
	if n, repeats := b.statuses(t); n["sent"] != 1 || repeats != 1 {
		t.Fatalf("outbox %v with %d repeats, want the second copy counted", n, repeats)
	}
}

// A mark that cannot be written (the database is away for a moment, here a
// trigger that fails once) keeps the mail: the running relay marks it
// again and sends it, instead of leaving it under its own claim.
func TestRelay_AFailedMarkKeepsTheMailAndSendsItWhenTheDatabaseIsBack(t *testing.T) {
	b := setup(t)
	outbox.FailOnce(b.db, "messages", "WHEN (OLD.smtp_started_at IS NULL AND NEW.smtp_started_at IS NOT NULL)")
	b.queue(t, 3)
	b.running(t)
	b.relay.Wake()
	waitSent(t, b.relay, 3)
	if n, repeats := b.statuses(t); n["sent"] != 3 || repeats != 0 {
		t.Fatalf("outbox %v with %d repeats", n, repeats)
	}
}

// At debug level the relay logs a line per mail sent, naming the message
// and the recipient's domain, never the address; at info, none.
func TestRelay_LogsEachMailOnlyAtDebug(t *testing.T) {
	b := setup(t)
	var debug, info logtest.Buffer
	b.queue(t, 2)
	if n, err := b.relayWith(t, info.Logger(slog.LevelInfo), outbox.Config{Workers: 1}, nil).Drain(context.Background()); n != 2 || err != nil {
		t.Fatalf("drained %d, %v", n, err)
	}
	b.queue(t, 2)
	if n, err := b.relayWith(t, debug.Logger(slog.LevelDebug), outbox.Config{Workers: 1}, nil).Drain(context.Background()); n != 2 || err != nil {
		t.Fatalf("drained %d, %v", n, err)
	}
	if n := info.Count("outbox: sent"); n != 0 {
		t.Fatalf("%d lines per mail at info", n)
	}
	// The recipient, b@example.com, as a word of its own: a random message
	// id may end in b before its @example.com.
	if n := debug.Count("outbox: sent"); n != 2 || debug.Count("domain=example.com") != 2 || regexp.MustCompile(`\bb@example\.com`).MatchString(debug.String()) {
		t.Fatalf("debug log:\n%s", debug.String())
	}
}
