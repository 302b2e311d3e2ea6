package optin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/nurture/nurture/internal/handover"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/ratelimit"
	"github.com/nurture/nurture/internal/store"
)

// Sentinel outcomes callers act on.
var (
	// ErrNotFound is the store's: a lead or token missing there is missing
	// here, and one sentinel needs no translating.
	ErrNotFound    = store.ErrNotFound
	ErrExpired     = errors.New("optin: confirmation link expired")
	ErrRateLimited = errors.New("optin: too many signups for this address")
	// ErrRevoked is a confirmation link sent before its lead last
	// unsubscribed or bounced: it neither confirms nor is renewed. Signing
	// up again sends a link that does.
	ErrRevoked = errors.New("optin: confirmation link no longer valid")
)

// Composer turns a mail into the exact bytes handed to SMTP.
type Composer interface {
	Compose(m mailer.Message) ([]byte, error)
}

// Store is the database as the opt-in uses it; *store.Store is one.
type Store interface {
	WithTx(ctx context.Context, fn func(*store.Tx) error) error
	ConfirmToken(ctx context.Context, hash []byte) (*store.ConfirmToken, error)
	LeadByID(ctx context.Context, id int64) (*store.LeadRow, error)
	LeadByEmail(ctx context.Context, email string) (*store.LeadRow, error)
	ConsentLedger(ctx context.Context, leadID int64) ([]lead.ConsentEvent, error)
	PurgePending(ctx context.Context, cutoff, now time.Time) (int64, error)
	RegisterConsentVersions(ctx context.Context, vs []store.ConsentVersion, now time.Time) ([]store.ConsentConflict, error)
	ReserveLeadIDs(ctx context.Context, n int) ([]int64, error)
	InsertFirstSignups(ctx context.Context, fs []store.FirstSignup) (map[string]int64, error)
	LeadTracking(ctx context.Context, id int64) (*store.LeadTracking, error)
}

// ConfirmedHook runs in the confirming transaction, so whatever it writes
// (say, enrolments in sequences) exists exactly when the confirmation does.
type ConfirmedHook func(ctx context.Context, tx *store.Tx, leadID int64, now time.Time) error

// Options tune the opt-in; zero values take the defaults.
type Options struct {
	From            string        // From header, e.g. "Acme <news@acme.example>"
	ConfirmTTL      time.Duration // default 72h
	ConfirmInterval time.Duration // at most one confirmation mail per address per interval; default 24h
	Retention       time.Duration // a never-confirmed lead is purged once its first signup and last confirmation mail are this old; default 30 days
	RatePerEmail    int           // signups per hour for one address; 0 = unlimited
	PrivacyURL      string        // the privacy policy, linked from the confirmation mail
	// Tracking is NURTURE_TRACKING: consent (the default), all or off. It
	// says which leads are tracked; the consent is recorded under every mode.
	Tracking    string
	OnConfirmed ConfirmedHook
	// Sender, when set, is handed confirmation mails as their signups
	// commit; without one, or when it has no room, they wait in the outbox
	// for the relay's next claim.
	Sender handover.Sender
}

// Service runs the double opt-in.
type Service struct {
	store    Store
	composer Composer
	links    *link.Builder
	log      *slog.Logger
	now      func() time.Time
	opts     Options
	envFrom  string
	domain   string
	sender   string // who the confirmation mail says it is from: From's name, else its address
	html     *htmltemplate.Template
	text     *texttemplate.Template
	// what the two bodies of a confirmation mail take, about: their buffers
	// are made at that size, not grown to it
	htmlSize, textSize int
	perEmail           *ratelimit.Keyed
	signups            signupWriter
	consents           sync.Map // consent version → the wording it is kept with (see KeepConsent)
}

// New returns the service. templates holds email/confirm.html with the
// frame it fills in, email/base.html, and email/confirm.txt; a template
// that does not parse or run is an error here, not at the first signup.
func New(st Store, c Composer, links *link.Builder, templates fs.FS, log *slog.Logger, now func() time.Time, opts Options) (*Service, error) {
	opts.ConfirmTTL = cmp.Or(opts.ConfirmTTL, 72*time.Hour)
	opts.ConfirmInterval = cmp.Or(opts.ConfirmInterval, 24*time.Hour)
	opts.Retention = cmp.Or(opts.Retention, 30*24*time.Hour)
	opts.Tracking = cmp.Or(opts.Tracking, TrackingConsent)
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("optin: From %q: %w", opts.From, err)
	}
	html, err := htmltemplate.ParseFS(templates, "email/base.html", "email/confirm.html")
	if err != nil {
		return nil, fmt.Errorf("optin: %w", err)
	}
	text, err := texttemplate.ParseFS(templates, "email/confirm.txt")
	if err != nil {
		return nil, fmt.Errorf("optin: %w", err)
	}
	s := &Service{
		store: st, composer: c, links: links, log: log, now: now, opts: opts,
		envFrom: from.Address, domain: from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		sender: cmp.Or(from.Name, from.Address),
		html:   html, text: text,
		perEmail: ratelimit.New(opts.RatePerEmail, time.Hour),
	}
	if err := s.sizeBodies(); err != nil {
		return nil, err
	}
	s.signups.init(s)
	return s, nil
}

// Subscribe records a signup and, unless the address is confirmed already or
// was mailed within the interval, queues a confirmation mail. Its result is
// the same for a new, pending or confirmed address, so callers cannot tell
// them apart; only invalid input (lead.FieldErrors) and the per-address rate
// limit differ.
func (s *Service) Subscribe(ctx context.Context, in lead.Signup, ev lead.Evidence) error {
	signup, err := in.Normalize()
	if err != nil {
		return err
	}
	return s.subscribe(ctx, signup, ev)
}

// SubscribeKeepingConsent is KeepConsent then Subscribe, for a signup that
// names its own consent, with its input checked and normalised once: the
// signup is refused, and nothing written, when its consent version names
// other words.
func (s *Service) SubscribeKeepingConsent(ctx context.Context, in lead.Signup, ev lead.Evidence) error {
	signup, err := in.Normalize()
	if err != nil {
		return err
	}
	if err := s.keepConsent(ctx, signup); err != nil {
		return err
	}
	return s.subscribe(ctx, signup, ev)
}

// subscribe is Subscribe of a normalised signup.
func (s *Service) subscribe(ctx context.Context, signup lead.Signup, ev lead.Evidence) error {
	now := s.now()
	if err := s.allowEmail(signup.Email, now); err != nil {
		return err
	}
	ev.At = now
	ev.ConsentText, ev.ConsentVersion = signup.ConsentText, signup.ConsentVersion
	ev.Tracking, ev.TrackingText, ev.TrackingVersion = signup.Tracking, signup.TrackingText, signup.TrackingVersion
	ev.Source = cmp.Or(signup.Source, ev.Source)
	ev.IP, ev.UserAgent, ev.SourceURL = cleanText(ev.IP), cleanText(ev.UserAgent), cleanText(ev.SourceURL)
	return s.signups.write(ctx, signup, ev)
}

// allowEmail applies the per-address limit that signups and resends share.
func (s *Service) allowEmail(email string, now time.Time) error {
	if !s.perEmail.Allow(email, now) {
		return &ratelimit.Limited{Err: ErrRateLimited, After: s.perEmail.Retry(email, now)}
	}
	return nil
}

// reserve asks the Sender for room for n mails, without waiting.
func (s *Service) reserve(ctx context.Context, n int) handover.Room {
	if s.opts.Sender == nil {
		return handover.None{}
	}
	return s.opts.Sender.Reserve(ctx, n, false)
}

// withTx runs fn in a transaction. Mail it queued for claiming, rather
// than leased for a hand-over, wakes the Sender once it has committed, so
// it leaves at once rather than at the relay's next poll.
func (s *Service) withTx(ctx context.Context, fn func(*store.Tx) error) error {
	return s.store.WithTx(ctx, func(tx *store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if tx.Queued() && s.opts.Sender != nil {
			tx.AfterCommit(s.opts.Sender.Wake)
		}
		return nil
	})
}

func (s *Service) mailDue(l *store.LeadRow, now time.Time) bool {
	return l.Status != lead.StatusConfirmed &&
		(l.ConfirmMailedAt == nil || now.Sub(*l.ConfirmMailedAt) >= s.opts.ConfirmInterval)
}
