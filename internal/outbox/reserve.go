package outbox

import (
	"context"
	"time"

	"github.com/nurture/nurture/internal/handover"
	"github.com/nurture/nurture/internal/store"
)

// A Reservation is room in a running relay's in-flight window for mail a
// producer is about to write: the producer writes up to N mails as claimed
// until Until, in its own transaction, and after commit hands them over,
// which spares a claim of each from the outbox. The mails name the
// relay's node, so they fall free at once if the process dies before
// sending them. It is the relay's handover.Room.
type Reservation struct {
	r     *Relay
	p     *pipeline
	n     int
	until time.Time
}

// The relay is the handover.Sender of the producers of mail.
var _ handover.Sender = (*Relay)(nil)

// Reserve reserves room for up to n mails while Run is running, and room
// for none (handover.None) otherwise. With wait set it waits for room for
// at least half of them, and has room for none if ctx ends or the relay
// stops first. Every Room must end with Hand or Cancel.
func (r *Relay) Reserve(ctx context.Context, n int, wait bool) handover.Room {
	r.mu.Lock()
	p := r.live
	if p != nil {
		p.reservations.Add(1)
	}
	r.mu.Unlock()
	if p == nil {
		return handover.None{}
	}
	got := p.win.acquire(ctx, min(n, r.cfg.InFlight), wait)
	if got == 0 {
		p.reservations.Done()
		return handover.None{}
	}
	return &Reservation{r: r, p: p, n: got, until: r.now().Add(r.cfg.Lease)}
}

// Until is when the lease of the mails written with the reservation ends.
func (v *Reservation) Until() time.Time { return v.until }

// N is how many mails the reservation has room for.
func (v *Reservation) N() int {
	if v == nil {
		return 0
	}
	return v.n
}

// Hand passes mail written with this reservation's lease, after its
// transaction committed, to the relay's senders, and frees the room not
// used. ms holds at most N mails. Mail handed to a relay that is stopping
// goes back to the queue unsent.
func (v *Reservation) Hand(ms []store.Claimed) {
	if v == nil {
		return
	}
	if len(ms) > v.n {
		panic("outbox: handed more mail than reserved")
	}
	v.r.count(func(s *Stats) { s.Handed += int64(len(ms)) })
	for _, m := range ms {
		v.p.win.hold(m)
		v.p.jobs <- m
	}
	v.end(v.n - len(ms))
}

// Cancel frees the reservation: the transaction that would have written
// the mail failed.
func (v *Reservation) Cancel() {
	if v != nil {
		v.end(v.n)
	}
}

func (v *Reservation) end(unused int) {
	v.p.win.release(unused)
	v.n = 0
	v.p.reservations.Done()
}
