//go:build faults

package faults

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/devmail"
)

// delay is a catcher rule that takes d to accept each mail, after its
// final dot.
func delay(d time.Duration) devmail.Rule {
	return func(stage devmail.Stage, _, _ string) *devmail.Reply {
		if stage == devmail.AtData {
			time.Sleep(d)
		}
		return nil
	}
}

// TestSMTPRefusing30s_AllSentWithin2sOfItsReturn: the SMTP server refuses
// connections for 30 s while mail keeps falling due. Within 2 s of its
// return everything due is sent, and the outage costs a few log lines,
// not one per mail and try.
func TestSMTPRefusing30s_AllSentWithin2sOfItsReturn(t *testing.T) {
	const n, outage = 600, 30 * time.Second
	w := newWorld(t)
	a := startNode(t, "node-a", w.env(w.mail.SMTPAddr()))

	must(t, w.mail.StopSMTP())
	down := time.Now()
	w.seed(n, down, outage-time.Second) // due all through the outage
	time.Sleep(time.Until(down.Add(outage)))
	must(t, w.mail.StartSMTP())
	back := time.Now()
	if w.mail.Stats().Received != 0 {
		t.Fatalf("the catcher got %d mails while it refused connections", w.mail.Stats().Received)
	}

	if !w.allSent(n, 2*time.Second, w.mail) {
		t.Errorf("2 s after SMTP came back %d of %d mails were sent; outbox: %+v", len(catch(w.mail).recipients), n, w.outbox())
	} else {
		t.Logf("all %d sent %v after SMTP came back", n, time.Since(back).Round(time.Millisecond))
	}
	lines := a.log.between(down, back.Add(2*time.Second))
	// An outage's start and its end, one line a minute while it lasts,
	// and a few for the connections the pool finds dead.
	if len(lines) > 10 {
		t.Errorf("%d log lines for one %v outage; the first ones:\n%s", len(lines), outage, strings.Join(lines[:min(len(lines), 8)], "\n"))
	}
	t.Logf("%d log lines during the outage", len(lines))
}

// TestSMTPStall_NoUncountedDuplicate: the SMTP server stalls after the
// final dot: it takes the mail and never answers, until the node gives up.
// The mail arrived; when the node sends it again, the copy is counted in
// the message's repeats.
func TestSMTPStall_NoUncountedDuplicate(t *testing.T) {
	const n = 400
	w := newWorld(t)
	w.mail.SetRule(delay(20 * time.Millisecond))
	p := newProxy(t, w.mail.SMTPAddr())
	env := w.env(p.addr())
	// Minutes by default, as RFC 5321 §4.5.3.2 suggests; a test need not
	// wait that long.
	env["NURTURE_SMTP_REPLY_TIMEOUT"] = "3s"
	startNode(t, "node-a", env)
	w.seed(n, time.Now(), 0)
	if !eventually(30*time.Second, func() bool { return w.mail.Stats().Received >= 50 }) {
		t.Fatalf("node-a sent %d mails in 30 s", w.mail.Stats().Received)
	}

	// The stall begins inside the catcher's handling of a mail's final
	// dot, before its reply, so at least that mail is accepted unanswered
	// however busy the machine is: a stall that lands while every
	// connection waits for MAIL or RCPT would prove nothing.
	type stall struct {
		open   []*proxyConn
		before int64
	}
	var armed atomic.Bool
	began := make(chan stall, 1)
	armed.Store(true)
	w.mail.SetRule(func(stage devmail.Stage, from, to string) *devmail.Reply {
		if stage == devmail.AtData && armed.CompareAndSwap(true, false) {
			before := w.mail.Stats().Received // this mail is not counted yet
			began <- stall{p.stall(), before}
		}
		return delay(20*time.Millisecond)(stage, from, to)
	})
	var st stall
	select {
	case st = <-began:
	case <-time.After(30 * time.Second):
		t.Fatal("no mail reached its final dot in 30 s")
	}
	open, stalled, before := st.open, time.Now(), st.before
	giveUp := time.After(45 * time.Second)
	for _, c := range open {
		select {
		case <-c.closed:
		case <-giveUp:
			t.Fatalf("node-a kept %d stalled connections open for 45 s", len(open))
		}
	}
	accepted := w.mail.Stats().Received - before
	p.resume()
	t.Logf("node-a gave up on the stalled server after %v; at least %d mails were accepted unanswered", time.Since(stalled).Round(time.Millisecond), accepted)
	if accepted == 0 {
		t.Fatal("the stall caught no mail after its final dot: the test proves nothing")
	}

	if !w.allSent(n, 90*time.Second, w.mail) {
		t.Fatalf("%d of %d leads had their mail 90 s after the stall; outbox: %+v", len(catch(w.mail).recipients), n, w.outbox())
	}
	extra := w.duplicates(catch(w.mail))
	t.Logf("%d extra copies; repeats %d", extra, w.outbox().Repeats)
}
