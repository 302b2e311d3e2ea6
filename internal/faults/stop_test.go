//go:build faults

package faults

import (
	"testing"
	"time"
)

// TestSIGTERMSlowServer_StopsIn5sAndSecondNodeSendsTheRest: with a server
// that takes 200 ms a mail, a node holding hundreds of mails gets SIGTERM.
// It stops in under 5 s plus one SMTP transaction, and a second node sends
// the rest at once.
func TestSIGTERMSlowServer_StopsIn5sAndSecondNodeSendsTheRest(t *testing.T) {
	const n, perMail = 600, 200 * time.Millisecond
	w := newWorld(t)
	w.mail.SetRule(delay(perMail))
	a := startNode(t, "node-a", w.env(w.mail.SMTPAddr()))
	w.seed(n, time.Now(), 0)
	if !eventually(30*time.Second, func() bool { return w.mail.Stats().Received >= 8 && w.outbox().Sending >= 100 }) {
		t.Fatalf("node-a did not get going: %d sent; outbox %+v", w.mail.Stats().Received, w.outbox())
	}
	held := w.outbox()

	// 5 s and one transaction, and a little for the process to exit.
	limit := 5*time.Second + perMail + 300*time.Millisecond
	took, stopped := a.stop(10 * time.Second) // then SIGKILL, as a supervisor would
	t.Logf("node-a held %d mails at SIGTERM (%d sent); it took %v to stop", held.Sending, held.Sent, took.Round(time.Millisecond))
	if !stopped {
		t.Errorf("node-a was still running %v after SIGTERM, and was killed", took.Round(time.Millisecond))
	} else if took > limit {
		t.Errorf("node-a took %v to stop, more than %v", took.Round(time.Millisecond), limit)
	}

	w.mail.SetRule(nil)
	startNode(t, "node-b", w.env(w.mail.SMTPAddr()))
	ready := time.Now()
	if !w.allSent(n, 3*time.Second, w.mail) {
		t.Fatalf("3 s after node-b started %d of %d leads had their mail; outbox: %+v", len(catch(w.mail).recipients), n, w.outbox())
	}
	t.Logf("node-b sent the rest within %v", time.Since(ready).Round(time.Millisecond))
	if extra := w.duplicates(catch(w.mail)); extra > 0 {
		t.Errorf("%d mails arrived twice after a graceful stop", extra)
	}
}

// TestTwoNodes10000Mails_NoDuplicateBothSend: two nodes share one step due
// for 10,000 leads, each sending to its own catcher. Every lead gets its
// mail once, and both nodes send.
func TestTwoNodes10000Mails_NoDuplicateBothSend(t *testing.T) {
	const n = 10000
	w := newWorld(t)
	other := newCatcher(t)
	startNode(t, "node-a", w.env(w.mail.SMTPAddr()))
	startNode(t, "node-b", w.env(other.SMTPAddr()))
	t0 := time.Now()
	w.seed(n, t0, 0)
	if !w.allSent(n, 60*time.Second, w.mail, other) {
		t.Fatalf("after 60 s %d of %d leads had their mail; outbox: %+v", len(catch(w.mail, other).recipients), n, w.outbox())
	}
	a, b := w.mail.Stats().Received, other.Stats().Received
	t.Logf("%d mails in %v: node-a sent %d, node-b %d", n, time.Since(t0).Round(time.Millisecond), a, b)
	c := catch(w.mail, other)
	for id, k := range c.copies {
		if k > 1 {
			t.Errorf("message %s arrived %d times", id, k)
		}
	}
	if a == 0 || b == 0 {
		t.Errorf("one node sent everything: node-a %d, node-b %d", a, b)
	}
}
