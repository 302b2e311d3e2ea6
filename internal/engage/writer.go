package engage

import (
	"net/http"
	"time"

	"github.com/nurture/nurture/internal/groupcommit"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// Events are written by group commit, as the signups are: concurrent
// requests queue their event, and one writer takes everything waiting (up
// to maxBatch) and writes it in one transaction. There is no fixed wait: at
// idle a batch is one event and goes at once; under load the next batch
// forms while the previous one commits. A request is answered once its
// batch has committed or failed.
//
// Up to maxWriters batches are written at once, so that Postgres works on
// one while the other travels or commits: a single writer keeps a single
// backend busy, one core of the database's. A further writer starts only
// when more than spill requests wait, though: until then the one writer's
// next batch takes them all, and a batch of many costs Postgres and this
// process less per event than two batches of few (on two cores, about a
// quarter less of Postgres's time per open). The clicks of one mail are
// never in two batches at once, so that each click's verdict sees the
// clicks of its mail before it.

const (
	maxWriters   = 2
	maxBatch     = 256
	spill        = 64 // waiting requests that start a further writer
	batchTimeout = 15 * time.Second
	batchRetries = 3 // attempts of a batch that hit a deadlock
)

// A pending is one open or click (ref set), or one Record call (events
// set), queued, then taken by the writer or abandoned by its caller.
type pending struct {
	groupcommit.Entry
	ref  tracking.Ref
	req  Request
	skip bool        // resolve the click's target only; record nothing
	hdr  http.Header // what the verdict reads of req, once made (header)

	events []event // a Record call's, leads resolved

	msg      *store.TrackedMessage // an open's or click's mail, once resolved
	target   string                // a click's, once resolved
	recorded []Recorded            // a Record call's outcome, by event
	err      error                 // its own outcome when the batch commits
}

// writer is the queue of events waiting for their batch.
type writer = groupcommit.Queue[*pending, int64]

func newWriter(s *Service) *writer {
	return groupcommit.New(groupcommit.Config[*pending, int64]{
		MaxBatch: maxBatch, MaxWriters: maxWriters, Spill: spill, Timeout: batchTimeout,
		// A Record call counts as many as its events.
		Weight: func(p *pending) int { return len(p.events) },
		Key: func(p *pending) (int64, bool) {
			m := p.clicked()
			return m, m != 0
		},
		// A caller that gives up after its event was taken does not wait:
		// it answers a person's browser. The event may still commit; it
		// counts as lost, and a client that retries with its idempotency
		// key records it once.
		Detach: true,
		Write:  s.writeBatch,
	})
}

// Wait returns once no batch is being written: after the HTTP server has
// shut down, every event taken is then committed or failed.
func (s *Service) Wait() { s.w.Wait() }

// clicked is the mail whose clicks p is one of, or 0.
func (p *pending) clicked() int64 {
	if p.events != nil || p.ref.Kind == tracking.KindOpen {
		return 0
	}
	return p.ref.Message
}
