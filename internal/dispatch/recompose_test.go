package dispatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
)

// leaseDead writes step key's mail to lead id as a dispatcher does for a
// running relay, leased and without its bytes, and never hands it over:
// the process died. It returns the mail's Message-ID.
func (b *bundle) leaseDead(id int64, key string) string {
	b.t.Helper()
	mid := mailer.NewMessageID("acme.example")
	b.inTx(func(tx *store.Tx) error {
		_, err := tx.QueueSteps(b.ctx, b.clock.Now(), []store.StepMessage{{
			LeadID: id, EnrolmentID: b.enrolment(id).ID, StepKey: key, MessageID: mid,
			From: "news@acme.example", To: "anna@example.com", Raw: []byte("bytes that are not stored"),
		}}, b.clock.Now().Add(5*time.Minute))
		return err
	})
	return mid
}

func TestCrash_LeasedStepMailIsComposedAgainAfterTheLease(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.threeSteps("")
	id := b.lead("anna@example.com", "Anna", nil)
	mid := b.leaseDead(id, "welcome/hello")

	if n, _ := b.relay.Drain(b.ctx); n != 0 {
		t.Fatalf("claimed %d mails within their lease", n)
	}
	b.clock.Advance(5*time.Minute + time.Second)
	if n, err := b.relay.Drain(b.ctx); n != 1 || err != nil {
		t.Fatalf("after the lease: %d, %v", n, err)
	}
	msgs := b.mail.Messages()
	if len(msgs) != 1 || msgs[0].Subject != "Hello Anna" || msgs[0].Header.Get("Message-ID") != mid ||
		msgs[0].Header.Get("X-Nurture-Step") != "welcome/hello" {
		t.Fatalf("caught %d mails: %+v", len(msgs), msgs)
	}
	counts := b.outbox()
	if len(counts) != 1 || counts[0].Status != "sent" || counts[0].Repeats != 0 {
		t.Fatalf("outbox %+v: want it sent, and no repeat: it never reached SMTP", counts)
	}
}

func TestCrash_LeasedMailOfADeletedStepIsNotSent(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.threeSteps("")
	id := b.lead("anna@example.com", "Anna", nil)
	b.leaseDead(id, "welcome/tips")
	b.write("welcome/02-tips.md", "")
	b.load()

	b.clock.Advance(5*time.Minute + time.Second)
	if n, err := b.relay.Drain(b.ctx); n != 1 || err != nil {
		t.Fatalf("after the lease: %d, %v", n, err)
	}
	if msgs := b.mail.Messages(); len(msgs) != 0 {
		t.Fatalf("sent the deleted step: %+v", msgs)
	}
	counts := b.outbox()
	if len(counts) != 1 || counts[0].Status != "failed" {
		t.Fatalf("outbox %+v: want it failed", counts)
	}
}

// A step mail handed over without its bytes stored gets them stored when
// SMTP answers 4xx, so the retry sends exactly the first attempt's mail,
// even once its step is gone and it could not be composed again.
func TestHanded_StepMailRetriedAfter4xxKeepsItsBytes(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.threeSteps("")
	b.lead("anna@example.com", "Anna", nil)
	b.runRelay()
	disp := b.withSender()

	b.mail.SetRule(devmail.Fail(devmail.AtRcpt, devmail.Reply{Code: 451, Enhanced: "4.3.0", Text: "try later"}))
	if _, err := disp.Drain(b.ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.relay.Stats().Retried < 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if s := b.relay.Stats(); s.Handed != 1 || s.Retried != 1 {
		t.Fatalf("relay stats %+v: want the mail handed over, then retried", s)
	}
	b.write("welcome/01-hello.md", "")
	b.load()
	b.mail.SetRule(nil)
	b.clock.Advance(time.Minute)
	b.relay.Wake()
	wait, cancelWait := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancelWait()
	msgs, err := b.mail.WaitFor(wait, 1)
	if err != nil || msgs[0].Subject != "Hello Anna" {
		t.Fatalf("after the retry: %+v, %v", msgs, err)
	}
}

// outbox is the outbox's count of messages in each status.
func (b *bundle) outbox() []store.OutboxStatus {
	b.t.Helper()
	counts, err := b.store.OutboxCounts(b.ctx)
	if err != nil {
		b.t.Fatal(err)
	}
	return counts
}
