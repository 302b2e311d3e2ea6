package mailer

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/time/rate"
)

// Sender hands raw mail to SMTP; Pool is one.
type Sender interface {
	Send(ctx context.Context, from, to string, raw []byte) error
}

var _ Sender = (*Pool)(nil)

// Pool sends mail over up to Config.Conns reused SMTP connections, at most
// Config.Rate messages a second in all. It is safe for concurrent use:
// each Send holds one connection for one transaction.
type Pool struct {
	cfg     Config
	log     *slog.Logger
	opts    []gomail.Option
	dialer  func(ctx context.Context, network, addr string) (net.Conn, error)
	limiter *rate.Limiter // nil when unlimited
	slots   chan struct{} // a token per transaction under way

	closing     context.Context // done once Close is called
	startClose  context.CancelFunc
	closeMu     sync.Mutex
	closedSlots int // slots Close holds

	mu     sync.Mutex
	idle   []*smtp.Client
	closed bool

	dials, open, sent atomic.Int64
}

// NewPool returns a Pool; it dials on the first Send.
func NewPool(cfg Config, log *slog.Logger) *Pool {
	cfg.Conns = max(1, cmp.Or(cfg.Conns, 4))
	cfg.Timeout = cmp.Or(cfg.Timeout, 30*time.Second)
	cfg.ReplyTimeout = cmp.Or(cfg.ReplyTimeout, 10*time.Minute)
	if cfg.Port == 0 {
		cfg.Port = 25
		if cfg.TLS == ImplicitTLS {
			cfg.Port = 465
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsCfg = cfg.TLSConfig.Clone()
	}
	tlsCfg.ServerName = cmp.Or(tlsCfg.ServerName, cfg.Host)

	p := &Pool{
		cfg:   cfg,
		log:   log,
		slots: make(chan struct{}, cfg.Conns),
		opts: []gomail.Option{
			gomail.WithPort(cfg.Port),
			gomail.WithTimeout(cfg.Timeout),
			gomail.WithTLSConfig(tlsCfg),
		},
	}
	p.closing, p.startClose = context.WithCancel(context.Background())

	netDialer := &net.Dialer{}
	p.dialer = netDialer.DialContext
	switch cfg.TLS {
	case ImplicitTLS:
		// TLS is dialled here rather than with gomail.WithSSL, which
		// cannot be combined with the dial hook dial needs. go-mail still
		// sees the TLS connection, and the opportunistic policy then finds
		// it encrypted and offers no STARTTLS.
		p.dialer = (&tls.Dialer{NetDialer: netDialer, Config: tlsCfg}).DialContext
		p.opts = append(p.opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case StartTLSRequired:
		p.opts = append(p.opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case StartTLSOff:
		p.opts = append(p.opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		p.opts = append(p.opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if cfg.HelloName != "" {
		p.opts = append(p.opts, gomail.WithHELO(cfg.HelloName))
	}
	if cfg.Username != "" {
		// Auto-discovery picks the strongest mechanism the server offers
		// and never sends PLAIN or LOGIN over an unencrypted connection.
		p.opts = append(p.opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	if cfg.Rate > 0 {
		// A burst of one spaces messages evenly instead of letting a
		// second's worth out at once.
		p.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	return p
}

// Send sends raw, unchanged, from the envelope sender to one recipient.
// raw has CRLF line ends, as Compose makes it (SMTP turns a bare LF into
// CRLF). from and to may carry display names. ctx bounds the wait for a
// connection, the rate limit and the dial; once the transaction has begun
// it runs to its end, whatever ctx does, each command bounded by
// Config.Timeout and the reply to the data by Config.ReplyTimeout: cutting
// it short could leave the mail delivered while the caller counts a
// failure and sends it again.
//
// Errors: *SMTPError for a refusal (Temporary or not), ErrUnavailable when
// the server cannot be reached or the connection breaks, with ErrNoReply
// too when that happened after the data went out (the mail may have been
// taken), ErrInvalidAddress for a recipient that is no address, ErrClosed
// after Close.
func (p *Pool) Send(ctx context.Context, from, to string, raw []byte) error {
	_, err := p.Deliver(ctx, from, to, raw)
	return err
}

// Deliver is Send that also returns the server's reply to the end of DATA,
// such as "2.0.0 Ok: queued as 4F1A2B".
func (p *Pool) Deliver(ctx context.Context, from, to string, raw []byte) (reply string, err error) {
	p.DeliverChain(ctx, Mail{From: from, To: to, Raw: raw}, nil, func(r string, e error) { reply, err = r, e })
	return reply, err
}

// Close refuses new sends, waits until the transactions under way have
// finished (or ctx is done), then QUITs every connection. Waiting sends
// return ErrClosed.
func (p *Pool) Close(ctx context.Context) error {
	p.startClose()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()

	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	var err error
wait:
	for p.closedSlots < cap(p.slots) {
		select {
		case p.slots <- struct{}{}:
			p.closedSlots++
		case <-ctx.Done():
			err = fmt.Errorf("mailer: close: transactions still under way: %w", ctx.Err())
			break wait
		}
	}
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		p.quit(c)
	}
	return err
}

// Stats counts the pool's connections and deliveries.
type Stats struct {
	Dials int64 // connections opened, ever
	Open  int64 // connections open now, busy or idle
	Sent  int64 // messages the server accepted
}

// Stats returns the counters.
func (p *Pool) Stats() Stats {
	return Stats{Dials: p.dials.Load(), Open: p.open.Load(), Sent: p.sent.Load()}
}

func (p *Pool) acquire(ctx context.Context) error {
	if p.closing.Err() != nil {
		return ErrClosed
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return waitErr(ctx, ctx.Err())
	}
	if p.closing.Err() != nil {
		<-p.slots
		return ErrClosed
	}
	return nil
}

func waitErr(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("mailer: waiting to send: %w", err)
}
