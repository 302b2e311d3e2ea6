// Package handover owns the contract by which a producer of mail (the
// opt-in, the dispatcher) hands what it wrote in a transaction straight to
// a sender once the transaction commits, sparing a claim of each mail from
// the outbox, and wakes the sender for mail left there to claim. It holds
// only these types; cmd lends the outbox relay to them, so the producers
// never import the outbox.
package handover

import (
	"context"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// Sender takes mail straight from the transaction that wrote it.
type Sender interface {
	// Reserve reserves room for up to n mails; with wait set it waits for
	// room for at least half of them, until ctx ends. Every Room must end
	// with Hand or Cancel.
	Reserve(ctx context.Context, n int, wait bool) Room
	// Wake makes the sender look for mail queued in the outbox now.
	Wake()
}

// Room is what a Sender reserved: room for up to N mails, written leased
// until Until in the producer's transaction, then handed over (Hand) once
// it committed, or given back (Cancel) if it did not.
type Room interface {
	N() int
	Until() time.Time
	Hand(ms []store.Claimed)
	Cancel()
}

// None is a Room with room for none: what a producer without a Sender has.
type None struct{}

func (None) N() int                  { return 0 }
func (None) Until() time.Time        { return time.Time{} }
func (None) Hand(ms []store.Claimed) {}
func (None) Cancel()                 {}
