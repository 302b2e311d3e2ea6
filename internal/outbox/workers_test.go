package outbox

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
)

// senderFunc is a Sender made of a function, to hold a transaction open
// or refuse to connect at the test's will.
type senderFunc func(ctx context.Context, to string) (string, error)

func (f senderFunc) Deliver(ctx context.Context, _, to string, _ []byte) (string, error) {
	return f(ctx, to)
}

func workersFor(s Sender, withProber bool) (*workers, *pipeline) {
	r := &Relay{sender: s, log: slog.New(slog.DiscardHandler), now: time.Now}
	p := &pipeline{r: r, win: newWindow(8), ready: newReady(8), results: make(chan result, 8), closing: make(chan struct{})}
	if withProber {
		p.prober = newProber(r.log, func(int) time.Duration { return time.Millisecond }, time.Hour, func() int { return 0 })
	}
	return &workers{r: r, p: p, n: 1}, p
}

// Stop lets the transaction under way finish and report its outcome, and
// the workers take nothing more: what waits on ready is the marker's to
// give back.
func TestWorkers_StopFinishesTheTransactionUnderWayAndTakesNothingMore(t *testing.T) {
	began, finish := make(chan string, 3), make(chan struct{})
	w, p := workersFor(senderFunc(func(_ context.Context, to string) (string, error) {
		began <- to
		<-finish
		return "250 ok", nil
	}), false)
	for i, to := range []string{"a@x.example", "b@x.example", "c@x.example"} {
		p.ready.push(store.Claimed{ID: int64(i + 1), To: to})
	}
	w.Start(context.Background())
	if to := <-began; to != "a@x.example" {
		t.Fatalf("first transaction to %s", to)
	}
	stopped := make(chan struct{})
	go func() { w.Stop(); close(stopped) }()
	if rest := p.ready.take(); len(rest) != 2 {
		t.Fatalf("%d left on ready, want 2", len(rest))
	}
	select {
	case <-stopped:
		t.Fatal("Stop returned while a transaction was under way")
	case <-time.After(20 * time.Millisecond):
	}
	close(finish)
	<-stopped
	if res := <-p.results; res.m.ID != 1 || res.release || res.reply != "250 ok" {
		t.Fatalf("outcome %+v", res)
	}
	select {
	case to := <-began:
		t.Fatalf("a transaction to %s began after Stop", to)
	default:
	}
}

// A worker that cannot reach the server keeps its mail and tries it again
// when the prober gives it a turn; stopped during the outage, it gives the
// mail back unsent.
func TestWorkers_AnUnreachableServerKeepsTheMailUntilStopReleasesIt(t *testing.T) {
	tries := make(chan struct{}, 100)
	unreachable := errors.Join(mailer.ErrUnavailable, errors.New("connection refused"))
	w, p := workersFor(senderFunc(func(context.Context, string) (string, error) {
		tries <- struct{}{}
		return "", unreachable
	}), true)
	p.prober.Start()
	defer p.prober.Stop()
	p.ready.push(store.Claimed{ID: 7})
	w.Start(context.Background())
	for range 3 { // the first try and two probes
		select {
		case <-tries:
		case <-time.After(5 * time.Second):
			t.Fatal("no probe")
		}
	}
	p.ready.take() // as the marker does when it stops
	w.Stop()
	if res := <-p.results; res.m.ID != 7 || !res.release {
		t.Fatalf("outcome %+v, want the mail given back", res)
	}
}

// chainFunc is a Sender that chains: it sends first and what next gives,
// with the outcomes its function decides, as *mailer.Pool does. A chain
// begins with a call for the empty address.
type chainFunc func(to string) (string, error)

func (f chainFunc) Deliver(_ context.Context, _, to string, _ []byte) (string, error) { return f(to) }

func (f chainFunc) DeliverChain(_ context.Context, first mailer.Mail, next func() (mailer.Mail, bool), done func(string, error)) {
	f("")
	for m, ok := first, true; ok; m, ok = next() {
		reply, err := f(m.To)
		done(reply, err)
		if err != nil {
			return // a broken connection ends the chain
		}
	}
}

// A worker chains what ready holds behind the mail it took, passes each
// outcome on in order, and sends a chained mail that did not reach the
// server again after a probe.
func TestWorkers_ChainWhatReadyHoldsAndRetryWhatMissed(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	failed := false
	w, p := workersFor(chainFunc(func(to string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if to == "" {
			calls = append(calls, "|")
			return "", nil
		}
		calls = append(calls, to)
		if to == "c@x.example" && !failed {
			failed = true
			return "", errors.Join(mailer.ErrUnavailable, errors.New("connection reset"))
		}
		return "250 " + to, nil
	}), true)
	p.prober.Start()
	defer p.prober.Stop()
	for i, to := range []string{"a@x.example", "b@x.example", "c@x.example"} {
		p.ready.push(store.Claimed{ID: int64(i + 1), To: to})
	}
	w.Start(context.Background())
	for i, want := range []string{"a@x.example", "b@x.example", "c@x.example"} {
		select {
		case res := <-p.results:
			if res.m.ID != int64(i+1) || res.release || res.reply != "250 "+want {
				t.Fatalf("outcome %d: %+v", i, res)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no outcome for %s", want)
		}
	}
	p.ready.take()
	w.Stop()
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(calls, " "); got != "| a@x.example b@x.example c@x.example | c@x.example" {
		t.Fatalf("sent %s, want a, b and c chained, then c again", got)
	}
}
