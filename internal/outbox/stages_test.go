package outbox

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/logtest"
	"github.com/nurture/nurture/internal/store"
)

func TestService_StartsOnceStopWaitsAndStartedSaysSo(t *testing.T) {
	var s service
	if s.Started() {
		t.Fatal("started before Start")
	}
	ran, ended := make(chan struct{}), make(chan struct{})
	if !s.startWith(func(stop <-chan struct{}) { close(ran); <-stop; time.Sleep(10 * time.Millisecond); close(ended) }) {
		t.Fatal("first start refused")
	}
	if s.startWith(func(<-chan struct{}) { t.Error("ran twice") }) {
		t.Fatal("second start accepted")
	}
	<-ran
	if !s.Started() {
		t.Fatal("not started after Start")
	}
	s.Stop()
	select {
	case <-ended:
	default:
		t.Fatal("Stop returned before the run function did")
	}
	if s.Started() {
		t.Fatal("started after Stop")
	}
	s.Stop() // a second Stop does nothing
}

func TestWindow_BoundsWhatIsHeldAndStopFreesWaiters(t *testing.T) {
	w := newWindow(4)
	ctx := context.Background()
	if n := w.acquire(ctx, 4, false); n != 0 {
		t.Fatalf("a window not started gave %d", n)
	}
	w.Start()
	if n := w.acquire(ctx, 3, true); n != 3 {
		t.Fatalf("acquired %d of 3", n)
	}
	if n := w.acquire(ctx, 3, false); n != 1 {
		t.Fatalf("acquired %d without waiting, want the 1 left", n)
	}
	w.hold(store.Claimed{ID: 7, Attempts: 2})
	if hs := w.heldMessages(); len(hs) != 1 || hs[0] != (store.Held{ID: 7, Attempts: 2}) || w.holding() != 1 {
		t.Fatalf("held %+v", hs)
	}
	w.done(7)
	if w.holding() != 0 {
		t.Fatal("done did not forget the message")
	}
	got := make(chan int)
	go func() { got <- w.acquire(ctx, 4, true) }() // 1 free: waits for 2
	select {
	case n := <-got:
		t.Fatalf("took %d without room for half", n)
	case <-time.After(20 * time.Millisecond):
	}
	w.Stop()
	if n := <-got; n != 0 {
		t.Fatalf("a waiter got %d from a stopped window", n)
	}
}

func TestReady_EachMessageGoesOutOnceAndTakeGetsTheRest(t *testing.T) {
	q := newReady(4)
	for i := range 4 {
		q.push(store.Claimed{ID: int64(i)})
	}
	if q.room() != 0 {
		t.Fatalf("room %d in a full queue", q.room())
	}
	m, ok := q.pop()
	if !ok || m.ID != 0 {
		t.Fatalf("popped %+v, %v", m, ok)
	}
	if _, ok := q.pop(); !ok {
		t.Fatal("second pop")
	}
	select {
	case <-q.refill:
	default:
		t.Fatal("no refill once down to half")
	}
	rest := q.take()
	if len(rest) != 2 || rest[0].ID != 2 {
		t.Fatalf("took %+v", rest)
	}
	if _, ok := q.pop(); ok {
		t.Fatal("popped from a queue that was taken back")
	}

	q = newReady(2)
	q.push(store.Claimed{ID: 1})
	q.end()
	if m, ok := q.pop(); !ok || m.ID != 1 {
		t.Fatal("an ended queue lost what it held")
	}
	if _, ok := q.pop(); ok {
		t.Fatal("an ended, empty queue popped")
	}
}

// During an outage only one waiter at a time gets a turn to probe, after
// the backoff; the first success lets everyone go. One line starts the
// outage, one per interval while it lasts, one ends it.
func TestProber_PausesProbesOneAtATimeAndResumes(t *testing.T) {
	var logs logtest.Buffer
	p := newProber(logs.Logger(slog.LevelInfo), func(int) time.Duration { return 20 * time.Millisecond }, 30*time.Millisecond, func() int { return 9 })
	p.Start()
	defer p.Stop()
	stop := make(chan struct{})
	if !p.await(stop) {
		t.Fatal("await blocked while the server is up")
	}
	p.fail(errors.New("connection refused"))
	p.fail(errors.New("connection refused")) // a second worker finds it down too
	passed := make(chan int, 3)
	for i := range 3 {
		go func() {
			if p.await(stop) {
				passed <- i
			}
		}()
	}
	<-passed // the first probe
	select {
	case <-passed:
		t.Fatal("two probes at once")
	case <-time.After(100 * time.Millisecond):
	}
	p.ok()
	<-passed
	<-passed
	if logs.Count("SMTP unreachable, sending paused") != 1 || logs.Count("SMTP reachable again") != 1 || logs.Count("SMTP still unreachable") < 1 {
		t.Fatalf("log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "waiting=9") {
		t.Fatalf("the log does not count the mail waiting:\n%s", logs.String())
	}
	p.fail(errors.New("down again"))
	close(stop)
	if p.await(stop) {
		t.Fatal("await passed after stop during an outage")
	}
}

func TestProbeBackoff_StartsShortAndStaysWithinASecond(t *testing.T) {
	if ProbeBackoff(1) != 50*time.Millisecond || ProbeBackoff(2) != 100*time.Millisecond || ProbeBackoff(100) != time.Second {
		t.Fatal(ProbeBackoff(1), ProbeBackoff(2), ProbeBackoff(100))
	}
}
