package devmail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrRunning and ErrStopped are returned by StartSMTP and StopSMTP when
// SMTP is already in the state asked for, and by Start when the server was
// started before.
var (
	ErrRunning = errors.New("devmail: already running")
	ErrStopped = errors.New("devmail: not running")
)

// Config configures a Server. The zero value listens on MailHog's usual
// ports on the loopback interface.
type Config struct {
	SMTPAddr string // default 127.0.0.1:1025
	HTTPAddr string // default 127.0.0.1:8025
	Hostname string // the name in the greeting and in message IDs; default devmail.localhost

	// MaxMessages is how many messages are kept; past it the oldest tenth
	// is dropped. Default 10000.
	MaxMessages int
	// MaxMessageSize is the largest message accepted, in bytes; bigger ones
	// get 552. Default 32 MiB.
	MaxMessageSize int

	Logger *slog.Logger
	Now    func() time.Time
}

// Server is the mail catcher: an SMTP listener, the caught messages and
// the web UI with its JSON API.
type Server struct {
	cfg   Config
	log   *slog.Logger
	store *store
	rule  atomic.Pointer[Rule]

	mu         sync.Mutex
	started    bool
	stopped    bool
	smtpLn     net.Listener
	smtpAddr   string // the bound address, so StartSMTP comes back on it
	acceptDone chan struct{}
	sessions   map[*session]struct{}
	sessWG     sync.WaitGroup
	draining   atomic.Bool
	httpLn     net.Listener
	httpSrv    *http.Server

	connsAccepted atomic.Int64
	connsOpen     atomic.Int64
	received      atomic.Int64
}

// New returns a Server; Start makes it listen.
func New(cfg Config) *Server {
	cfg.SMTPAddr = cmp.Or(cfg.SMTPAddr, "127.0.0.1:1025")
	cfg.HTTPAddr = cmp.Or(cfg.HTTPAddr, "127.0.0.1:8025")
	cfg.Hostname = cmp.Or(cfg.Hostname, "devmail.localhost")
	cfg.MaxMessages = cmp.Or(cfg.MaxMessages, 10000)
	cfg.MaxMessageSize = cmp.Or(cfg.MaxMessageSize, 32<<20)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		store:    newStore(cfg.MaxMessages),
		sessions: make(map[*session]struct{}),
	}
}

// Start binds the SMTP and HTTP listeners and serves them in the
// background. Use "127.0.0.1:0" for free ports; SMTPAddr and HTTPURL tell
// what was bound.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return ErrRunning
	}
	var lc net.ListenConfig
	sln, err := lc.Listen(ctx, "tcp", s.cfg.SMTPAddr)
	if err != nil {
		return fmt.Errorf("devmail: listen SMTP: %w", err)
	}
	hln, err := lc.Listen(ctx, "tcp", s.cfg.HTTPAddr)
	if err != nil {
		sln.Close()
		return fmt.Errorf("devmail: listen HTTP: %w", err)
	}
	s.started = true
	s.smtpAddr = sln.Addr().String()
	s.serveSMTPLocked(sln)

	s.httpLn = hln
	s.httpSrv = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := s.httpSrv.Serve(hln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("devmail: HTTP stopped", "err", err)
		}
	}()
	s.log.Info("devmail: listening", "smtp", s.smtpAddr, "http", "http://"+hln.Addr().String())
	return nil
}

// SMTPAddr is the address the SMTP listener is bound to, as host:port.
func (s *Server) SMTPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.smtpAddr
}

// HTTPURL is the base URL of the web UI and API, without a trailing slash.
func (s *Server) HTTPURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.httpLn == nil {
		return ""
	}
	return "http://" + s.httpLn.Addr().String()
}

// StopSMTP takes SMTP down as a crashed server would: the listener closes
// and every open connection is cut, mid-transaction or not. Messages and
// the web UI stay.
func (s *Server) StopSMTP() error {
	s.mu.Lock()
	if s.smtpLn == nil {
		s.mu.Unlock()
		return ErrStopped
	}
	done := s.closeSMTPLocked()
	for sess := range s.sessions {
		sess.conn.Close()
	}
	s.mu.Unlock()
	<-done
	s.sessWG.Wait()
	return nil
}

// StartSMTP brings SMTP back on the address it had before StopSMTP.
func (s *Server) StartSMTP() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.stopped {
		return ErrStopped
	}
	if s.smtpLn != nil {
		return ErrRunning
	}
	ln, err := net.Listen("tcp", s.smtpAddr)
	if err != nil {
		return fmt.Errorf("devmail: listen SMTP: %w", err)
	}
	s.draining.Store(false)
	s.serveSMTPLocked(ln)
	return nil
}

// Shutdown stops accepting, ends idle SMTP connections with 421 and lets
// transactions under way finish, until ctx is done; then it cuts what is
// left. The web UI shuts down gracefully as net/http does.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.started || s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	s.draining.Store(true)
	var done chan struct{}
	if s.smtpLn != nil {
		done = s.closeSMTPLocked()
	}
	for sess := range s.sessions {
		if !sess.busy.Load() {
			sess.conn.SetReadDeadline(time.Now())
		}
	}
	srv := s.httpSrv
	s.mu.Unlock()
	if done != nil {
		<-done
	}

	finished := make(chan struct{})
	go func() { s.sessWG.Wait(); close(finished) }()
	var err error
	select {
	case <-finished:
	case <-ctx.Done():
		err = ctx.Err()
		s.mu.Lock()
		for sess := range s.sessions {
			sess.conn.Close()
		}
		s.mu.Unlock()
		<-finished
	}
	if herr := srv.Shutdown(ctx); herr != nil {
		srv.Close()
		err = cmp.Or(err, herr)
	}
	return err
}

// Close stops everything at once.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Shutdown(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Stats counts SMTP activity since New.
type Stats struct {
	ConnsAccepted int64 // SMTP connections accepted
	ConnsOpen     int64 // SMTP connections open now
	Received      int64 // messages caught, including ones since deleted
}

// Stats returns the SMTP counters.
func (s *Server) Stats() Stats {
	return Stats{
		ConnsAccepted: s.connsAccepted.Load(),
		ConnsOpen:     s.connsOpen.Load(),
		Received:      s.received.Load(),
	}
}

// Messages returns every caught message, oldest first.
func (s *Server) Messages() []Message { return s.store.messages() }

// WaitFor blocks until at least n messages are caught and returns them all,
// oldest first. When ctx ends first it returns what there is and an error.
func (s *Server) WaitFor(ctx context.Context, n int) ([]Message, error) {
	return s.store.waitFor(ctx, n)
}

// WaitCount blocks until at least n messages are caught, like WaitFor, but
// returns none of them: parsing thousands of messages takes longer than
// catching them.
func (s *Server) WaitCount(ctx context.Context, n int) error {
	if err := s.store.waitCount(ctx, n); err != nil {
		return waitErr(ctx, s.store.count(), n)
	}
	return nil
}

// Reset deletes every caught message.
func (s *Server) Reset() { s.store.reset() }

// serveSMTPLocked starts the accept loop on ln.
func (s *Server) serveSMTPLocked(ln net.Listener) {
	s.smtpLn = ln
	done := make(chan struct{})
	s.acceptDone = done
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				return
			}
			s.mu.Lock()
			if s.smtpLn != ln {
				s.mu.Unlock()
				c.Close()
				return
			}
			sess := &session{conn: c}
			s.sessions[sess] = struct{}{}
			s.sessWG.Add(1)
			s.mu.Unlock()
			s.connsAccepted.Add(1)
			go s.serve(sess)
		}
	}()
}

// closeSMTPLocked closes the listener; the returned channel closes when
// the accept loop has ended.
func (s *Server) closeSMTPLocked() chan struct{} {
	s.smtpLn.Close()
	s.smtpLn = nil
	return s.acceptDone
}

func (s *Server) endSession(sess *session) {
	sess.conn.Close()
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
	s.sessWG.Done()
}
