package outbox

import "sync"

// service is the life cycle every stage of the relay shares, after the
// start/stop services of River: Start runs the stage once, Stop asks it to
// end and waits until it has, Started says whether it runs. A stage's run
// function gets the channel Stop closes.
type service struct {
	mu      sync.Mutex
	started bool
	stop    chan struct{}
	done    chan struct{}
}

// startWith runs fn in a goroutine until it returns. It reports false,
// and runs nothing, when the stage was started already.
func (s *service) startWith(fn func(stop <-chan struct{})) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return false
	}
	s.started = true
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	stop, done := s.stop, s.done
	go func() {
		defer close(done)
		fn(stop)
	}()
	return true
}

// Stop asks the stage to end and waits until its run function returned.
// It does nothing for a stage that was never started or already stopped.
func (s *service) Stop() {
	s.mu.Lock()
	if !s.started {
		s.mu.Unlock()
		return
	}
	s.started = false
	stop, done := s.stop, s.done
	s.mu.Unlock()
	close(stop)
	<-done
}

// Started reports whether the stage was started and not yet stopped.
func (s *service) Started() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// stopping returns a channel closed once Stop is called, or nil before
// Start.
func (s *service) stopping() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop
}
