package engage

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// DefaultWait is Config.Wait's default.
const DefaultWait = 5 * time.Second

// ErrUnknown means a token that is not valid, or names no mail or link
// this server sent, or an event of no known lead.
var ErrUnknown = errors.New("engage: unknown token, mail, link or lead")

// Request is what the server knows of a request for the pixel or a link.
type Request struct {
	Method, UserAgent, Purpose string // Purpose: the Sec-Purpose or Purpose header
	IP                         netip.Addr
	At                         time.Time // zero: now
	// Header holds other headers the verdict may read (Sec-Fetch-User);
	// optional. UserAgent and Purpose take precedence over it.
	Header http.Header
}

// Event is an event that the API, the marketer's site or Nurture reports.
type Event struct {
	Lead           string // id or address
	Type, URL      string
	At             time.Time // zero: now
	IdempotencyKey string
	Source         string // api, site or system; "" is api
}

// Recorded is what became of one Event.
type Recorded struct {
	ID, Lead  int64
	Duplicate bool // its idempotency key was recorded before: this is that event
	Enrolled  int  // sequences the event enrolled the lead in
}

// Config configures a Service; zero values take the defaults.
type Config struct {
	Signer    *tracking.Signer // NURTURE_SECRET's; required
	Judge     tracking.Judge
	Tracking  string   // NURTURE_TRACKING: consent (default), all or off
	SiteHosts []string // NURTURE_SITE_HOSTS: a click there carries ?nt=
	// Recorded is called after each commit that wrote events (funnel's Wake).
	Recorded func()
	// OnEvent enrols a lead in the sequences its new event triggers, in the
	// event's transaction, and says in how many (dispatch's OnEvent).
	OnEvent func(ctx context.Context, tx *store.Tx, leadID int64, typ string, now time.Time) (int, error)
	Now     func() time.Time
	Log     *slog.Logger
	// Wait bounds how long Open and Click wait for their commit before
	// their caller answers anyway; default 5s, half the web server's
	// request timeout, so that a database that hangs still leaves time to
	// answer the GIF or the redirect.
	Wait time.Duration
}

// Stats counts what a Service did since it started.
type Stats struct {
	Recorded int64 `json:"events_recorded"` // events committed
	Lost     int64 `json:"events_lost"`     // opens and clicks answered but not recorded (database down)
	Batches  int64 `json:"batches"`         // transactions committed
}

// Service records events.
type Service struct {
	st    *store.Store
	cfg   Config
	w     *writer
	cache messageCache

	recorded, lost, batches atomic.Int64
}

// New returns a Service writing to st.
func New(st *store.Store, cfg Config) (*Service, error) {
	if cfg.Signer == nil {
		return nil, errors.New("engage: Config.Signer is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Tracking == "" {
		cfg.Tracking = "consent"
	}
	cfg.Wait = cmp.Or(cfg.Wait, DefaultWait)
	s := &Service{st: st, cfg: cfg}
	s.w = newWriter(s)
	return s, nil
}

// Stats returns the counters.
func (s *Service) Stats() Stats {
	return Stats{Recorded: s.recorded.Load(), Lost: s.lost.Load(), Batches: s.batches.Load()}
}

// Open records an open of the pixel whose token is tok, and returns once it
// has committed (or was not to be recorded: tracking off, or the lead not
// tracked), or after Config.Wait. ErrUnknown means a bad token. Any other error means the open
// is lost; it is counted in Stats.Lost. The caller answers the pixel
// whatever this returns.
func (s *Service) Open(ctx context.Context, tok string, r Request) error {
	ref, err := s.cfg.Signer.Parse(tok)
	if err != nil || ref.Kind != tracking.KindOpen {
		return ErrUnknown
	}
	if s.cfg.Tracking == "off" {
		return nil
	}
	p := &pending{ref: ref, req: s.request(r)}
	if err := s.w.DoWithin(ctx, p, s.cfg.Wait); err != nil {
		if !errors.Is(err, ErrUnknown) {
			s.lost.Add(1)
		}
		return err
	}
	return nil
}

// Click records a click of the link whose token is tok and returns, once
// it has committed or after Config.Wait, where it leads: the link as the
// mail had it, with ?nt= added for the marketer's
// own site. ErrUnknown means a bad token or no such mail or link. Another
// error means the click is lost (counted in Stats.Lost); target is then
// still the link's when this server knew it already, and the caller
// redirects there. The honeypot link has the target "".
func (s *Service) Click(ctx context.Context, tok string, r Request) (target string, err error) {
	ref, err := s.cfg.Signer.Parse(tok)
	if err != nil || (ref.Kind != tracking.KindClick && ref.Kind != tracking.KindHoneypot) {
		return "", ErrUnknown
	}
	p := &pending{ref: ref, req: s.request(r), skip: s.cfg.Tracking == "off"}
	err = s.w.DoWithin(ctx, p, s.cfg.Wait)
	switch {
	case err == nil:
		return p.target, nil
	case errors.Is(err, ErrUnknown):
		return "", err
	}
	s.lost.Add(1)
	if lead, links, ok := s.cache.links(ref.Message); ok && ref.Kind == tracking.KindClick {
		target, _ = s.linkTarget(lead, links, ref.Link)
	}
	return target, err
}

func (s *Service) request(r Request) Request {
	if r.At.IsZero() {
		r.At = s.cfg.Now()
	}
	r.UserAgent = clean(r.UserAgent, 512)
	r.Purpose = clean(r.Purpose, 128)
	return r
}
