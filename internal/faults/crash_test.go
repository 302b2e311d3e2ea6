//go:build faults

package faults

import (
	"testing"
	"time"
)

// TestKill9MidDispatch_RestartSendsEverythingWithin10s: a node dies with
// SIGKILL while it sends a step due for thousands of leads. A restarted
// node sends the rest, the dead node's claims included, within 10 s of its
// start; only mails that were inside SMTP transactions may arrive twice,
// and each such copy is counted in its message's repeats.
func TestKill9MidDispatch_RestartSendsEverythingWithin10s(t *testing.T) {
	const n = 3000
	w := newWorld(t)
	w.mail.SetRule(delay(time.Millisecond)) // about the pace of a real server on loopback
	w.seed(n, time.Now(), 0)

	a := startNode(t, "node-a", w.env(w.mail.SMTPAddr()))
	if !eventually(30*time.Second, func() bool { return w.mail.Stats().Received >= n/4 }) {
		t.Fatalf("node-a sent %d mails in 30 s", w.mail.Stats().Received)
	}
	a.kill()
	before := w.outbox()
	t.Logf("killed node-a after %d mails; outbox: %+v", w.mail.Stats().Received, before)
	if before.Sending == 0 {
		t.Fatal("node-a held no mail when it died: the test proves nothing")
	}

	restart := time.Now()
	startNode(t, "node-b", w.env(w.mail.SMTPAddr()))
	if !w.allSent(n, 10*time.Second-time.Since(restart), w.mail) {
		c := catch(w.mail)
		t.Fatalf("10 s after the restart %d of %d leads had their mail; outbox: %+v", len(c.recipients), n, w.outbox())
	}
	t.Logf("all %d sent %v after the restart", n, time.Since(restart).Round(time.Millisecond))
	extra := w.duplicates(catch(w.mail))
	if extra > before.Started {
		t.Errorf("%d extra copies, but only %d mails were inside SMTP transactions when node-a died", extra, before.Started)
	}
	t.Logf("%d extra copies; %d mails were marked as handed to SMTP at the kill; repeats %d", extra, before.Started, w.outbox().Repeats)
}
