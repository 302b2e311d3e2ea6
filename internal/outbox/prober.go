package outbox

import (
	"log/slog"
	"sync"
	"time"
)

// prober pauses the SMTP workers while the server cannot be reached. The
// first worker that finds it unreachable starts an outage (fail); from
// then on workers wait in await, and one of them at a time, after a
// backoff, gets a turn to try its mail again: that try is the probe. The
// first transaction that reaches the server (ok) ends the outage and lets
// every worker go. It logs one line when an outage starts, one every
// Config.OutageLog while it lasts and one when it ends.
type prober struct {
	service
	log     *slog.Logger
	backoff func(n int) time.Duration // the wait before probe n (from 1)
	every   time.Duration             // between the log lines of an outage
	waiting func() int                // the mails the relay holds, for the log

	turn chan struct{} // a probe may go
	wake chan struct{} // the outage began, or a probe failed

	mu     sync.Mutex
	down   bool
	up     chan struct{} // closed when the outage ends
	since  time.Time
	probes int // failed probes of this outage
	err    error
}

func newProber(log *slog.Logger, backoff func(int) time.Duration, every time.Duration, waiting func() int) *prober {
	return &prober{
		log: log, backoff: backoff, every: every, waiting: waiting,
		turn: make(chan struct{}, 1), wake: make(chan struct{}, 1),
	}
}

// ProbeBackoff waits 50ms before the first probe of an outage and doubles
// up to 1s, so sending resumes within a second of the server's return.
func ProbeBackoff(n int) time.Duration {
	return min(50*time.Millisecond<<min(max(n-1, 0), 5), time.Second)
}

// Start runs the prober.
func (p *prober) Start() { p.startWith(p.run) }

func (p *prober) run(stop <-chan struct{}) {
	var probe <-chan time.Time
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-p.wake:
			p.mu.Lock()
			down, n := p.down, p.probes
			p.mu.Unlock()
			if down {
				probe = time.After(p.backoff(n + 1))
			}
		case <-probe:
			probe = nil
			select {
			case p.turn <- struct{}{}:
			default:
			}
		case <-tick.C:
			p.mu.Lock()
			if p.down {
				p.log.Warn("outbox: SMTP still unreachable, sending paused", "for", time.Since(p.since).Round(time.Second),
					"probes", p.probes, "waiting", p.waiting(), "err", p.err)
			}
			p.mu.Unlock()
		}
	}
}

// fail reports that the server could not be reached.
func (p *prober) fail(err error) {
	p.mu.Lock()
	if !p.down {
		p.down, p.up, p.since, p.probes = true, make(chan struct{}), time.Now(), 0
		p.log.Warn("outbox: SMTP unreachable, sending paused", "err", err, "waiting", p.waiting())
	} else {
		p.probes++
	}
	p.err = err
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// ok reports that a transaction reached the server.
func (p *prober) ok() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.down {
		return
	}
	p.down = false
	close(p.up)
	select {
	case <-p.turn:
	default:
	}
	p.log.Info("outbox: SMTP reachable again, sending resumed", "after", time.Since(p.since).Round(time.Millisecond),
		"probes", p.probes+1, "waiting", p.waiting())
}

// await returns true at once while the server is reachable; during an
// outage it waits for the outage to end or for a turn to probe. It returns
// false if stop is closed first.
func (p *prober) await(stop <-chan struct{}) bool {
	p.mu.Lock()
	down, up := p.down, p.up
	p.mu.Unlock()
	if !down {
		return true
	}
	select {
	case <-up:
		return true
	case <-p.turn:
		return true
	case <-stop:
		return false
	}
}
