package outbox

import (
	"context"
	"fmt"
	"sync"

	"github.com/nurture/nurture/internal/store"
)

// pipeline is one run of a relay: its stages and what flows between them.
// Claimed and handed mail goes on jobs to the marker, which marks it and
// puts it on ready; the workers send it and put the outcome on results,
// which the marker records. The window bounds what is held; the renewer
// keeps it the relay's; the prober (Run only) pauses the workers while
// SMTP is down.
type pipeline struct {
	win     *window
	ready   *ready
	marker  *marker
	workers *workers
	renewer *renewer
	prober  *prober // nil for a Drain

	jobs         chan store.Claimed // claimed or handed over, not yet marked
	results      chan result        // sent or given back, not yet recorded
	reservations sync.WaitGroup
	closing      chan struct{} // closed when stop begins

	node int64 // the node the pipeline joined as, 0 if it joined none
	r    *Relay
	mu   sync.Mutex
	errs []error // write errors not yet reported by err
}

// start joins as a node when it runs for Run (or when the store is no
// node yet) and starts the stages. Their sending outlives ctx: a cancelled
// ctx means "claim nothing new", not "abandon the SMTP transaction".
func (r *Relay) start(ctx context.Context, run bool) (*pipeline, error) {
	p := &pipeline{
		r:       r,
		win:     newWindow(r.cfg.InFlight),
		ready:   newReady(readyPerWorker * r.cfg.Workers),
		jobs:    make(chan store.Claimed, r.cfg.InFlight),
		results: make(chan result, r.cfg.InFlight),
		closing: make(chan struct{}),
	}
	send := context.WithoutCancel(ctx)
	now := r.now()
	if run || r.store.Node() == 0 {
		id, err := r.store.Join(send, now, now.Add(r.cfg.NodeLease))
		if err != nil {
			return nil, err
		}
		p.node = id
	} else if err := r.store.RenewNode(send, r.store.Node(), now.Add(r.cfg.NodeLease)); err != nil {
		return nil, err // a Drain on a store whose node another run left: alive again
	}
	p.win.Start()
	p.marker = &marker{r: r, p: p, jobs: p.jobs, results: p.results}
	p.marker.Start(send)
	if run {
		p.prober = newProber(r.log, r.cfg.ProbeBackoff, r.cfg.OutageLog, p.win.holding)
		p.prober.Start()
	}
	p.workers = &workers{r: r, p: p, n: r.cfg.Workers}
	p.workers.Start(send)
	p.renewer = &renewer{
		store: r.store, log: r.log, now: r.now, node: r.store.Node(),
		nodeLease: r.cfg.NodeLease, lease: r.cfg.Lease, held: p.win.heldMessages,
	}
	p.renewer.Start(send)
	return p, nil
}

// stop ends the pipeline. With release (Run) the marker gives every mail
// not yet in SMTP back to the queue at once, and the workers stop after
// the transactions under way; without (Drain) everything held is sent
// first. Either way it returns once no reservation is open and all is
// written. It returns the write errors that were left when it
// gave up, and leaves the node it joined.
func (p *pipeline) stop(release bool) error {
	close(p.closing)
	p.win.Stop()
	if release {
		// The marker gives back what it holds at once; mail handed over by
		// reservations still open goes back as it comes.
		marked, worked := make(chan struct{}), make(chan struct{})
		go func() { p.marker.Stop(); close(marked) }()
		go func() { p.workers.Stop(); close(worked) }()
		p.reservations.Wait()
		close(p.jobs)
		<-worked
		close(p.results)
		<-marked
	} else {
		p.reservations.Wait()
		close(p.jobs)
		p.workers.wait()
		close(p.results)
		p.marker.wait()
		p.marker.Stop()
		p.workers.Stop()
	}
	p.renewer.Stop()
	if p.prober != nil {
		p.prober.Stop()
	}
	if release && p.node != 0 {
		ctx := context.Background()
		if err := p.r.store.LeaveNode(ctx, p.node, p.r.now()); err != nil {
			p.keep(err)
		}
	}
	if s := p.r.Stats(); release && s.Released > 0 {
		p.r.log.Info("outbox: stopped; mail not yet in SMTP is back in the queue", "released", s.Released)
	}
	return p.err()
}

// keep notes a failed write.
func (p *pipeline) keep(err error) {
	p.mu.Lock()
	p.errs = append(p.errs, err)
	p.mu.Unlock()
}

// err returns the write errors since its last call: the first, and how
// many there were.
func (p *pipeline) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	switch len(p.errs) {
	case 0:
	case 1:
		err = p.errs[0]
	default:
		err = fmt.Errorf("outbox: %d writes failed, the first: %w", len(p.errs), p.errs[0])
	}
	p.errs = nil
	return err
}
