package mailer

import (
	"errors"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/devmail"
)

// A server that takes the data and then says nothing (it stalls) is given
// ReplyTimeout, not the command timeout, and the error says the mail may
// have arrived: ErrNoReply, with ErrUnavailable.
func TestPool_NoReplyAfterTheDataIsErrNoReply(t *testing.T) {
	b := setup(t)
	release := make(chan struct{})
	defer close(release)
	b.catcher.SetRule(func(stage devmail.Stage, _, _ string) *devmail.Reply {
		if stage == devmail.AtData {
			<-release
		}
		return nil
	})
	p := b.pool(t, func(c *Config) { c.Timeout = 50 * time.Millisecond; c.ReplyTimeout = 300 * time.Millisecond })
	start := time.Now()
	_, err := p.Deliver(b.ctx, "a@acme.example", "b@example.com", raw(t, "b@example.com"))
	waited := time.Since(start)
	if !errors.Is(err, ErrNoReply) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v, want ErrNoReply and ErrUnavailable", err)
	}
	if waited < 300*time.Millisecond {
		t.Fatalf("gave up after %v, before the reply timeout", waited)
	}
	if Permanent(err) {
		t.Fatal("no reply counts as permanent")
	}
}

// A refusal of the data is a reply: no ErrNoReply.
func TestPool_ARefusedDataIsNoErrNoReply(t *testing.T) {
	b := setup(t)
	b.catcher.SetRule(devmail.Fail(devmail.AtData, devmail.Reply{Code: 451, Text: "later"}))
	p := b.pool(t)
	_, err := p.Deliver(b.ctx, "a@acme.example", "b@example.com", raw(t, "b@example.com"))
	if err == nil || errors.Is(err, ErrNoReply) {
		t.Fatalf("err %v, want a refusal without ErrNoReply", err)
	}
}
