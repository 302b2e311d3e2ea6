package optin

import (
	"bytes"
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

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/outbox"
	"github.com/nurture/nurture/internal/ratelimit"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
)

// Sentinel outcomes callers act on.
var (
	ErrNotFound    = errors.New("optin: not found")
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

// Sender takes mail straight from the transaction that wrote it, sparing a
// claim from the outbox; *outbox.Relay is one.
type Sender interface {
	Reserve(ctx context.Context, n int, wait bool) *outbox.Reservation
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
	OnConfirmed     ConfirmedHook
	// Sender, when set, is handed confirmation mails as their signups
	// commit; without one, or when it has no room, they wait in the outbox
	// for the relay's next claim.
	Sender Sender
}

// Service runs the double opt-in.
type Service struct {
	store    *store.Store
	composer Composer
	links    *link.Builder
	log      *slog.Logger
	now      func() time.Time
	opts     Options
	envFrom  string
	domain   string
	html     *htmltemplate.Template
	text     *texttemplate.Template
	perEmail *ratelimit.Keyed
	signups  signupWriter
	consents sync.Map // consent version → the wording it is kept with (see KeepConsent)
}

// New returns the service. templates holds email/confirm.html and
// email/confirm.txt; a template that does not parse is an error here, not at
// the first signup.
func New(st *store.Store, c Composer, links *link.Builder, templates fs.FS, log *slog.Logger, now func() time.Time, opts Options) (*Service, error) {
	opts.ConfirmTTL = cmp.Or(opts.ConfirmTTL, 72*time.Hour)
	opts.ConfirmInterval = cmp.Or(opts.ConfirmInterval, 24*time.Hour)
	opts.Retention = cmp.Or(opts.Retention, 30*24*time.Hour)
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("optin: From %q: %w", opts.From, err)
	}
	html, err := htmltemplate.ParseFS(templates, "email/confirm.html")
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
		html: html, text: text,
		perEmail: ratelimit.New(opts.RatePerEmail, time.Hour),
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
	now := s.now()
	if err := s.allowEmail(signup.Email, now); err != nil {
		return err
	}
	ev.At = now
	ev.ConsentText, ev.ConsentVersion = signup.ConsentText, signup.ConsentVersion
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

func (s *Service) mailDue(l *store.LeadRow, now time.Time) bool {
	return l.Status != lead.StatusConfirmed &&
		(l.ConfirmMailedAt == nil || now.Sub(*l.ConfirmMailedAt) >= s.opts.ConfirmInterval)
}

// signupRecord is what a signup (or a resend) of lead l writes besides the
// lead: the ledger entry and, when mailNow, the composed confirmation mail
// with its token's hash and d, what confirming that link applies to the
// lead. The mail greets the person by the name d gives.
func (s *Service) signupRecord(l *store.LeadRow, d store.LeadData, kind lead.EventKind, ev lead.Evidence, mailNow bool) (store.Signup, error) {
	rec := store.Signup{Event: store.NewConsentEvent{
		LeadID: &l.ID, EmailHash: lead.EmailHash(l.Email), Kind: kind, Evidence: ev,
	}}
	if mailNow {
		tok, hash := token.Random()
		raw, mid, err := s.composeConfirmation(l, d.FirstName, tok, ev.At)
		if err != nil {
			return rec, err
		}
		rec.Mail = &store.NewMessage{Kind: "confirmation", LeadID: &l.ID, MessageID: mid, From: s.envFrom, To: l.Email, Raw: raw, RunAt: ev.At}
		rec.TokenHash, rec.Expires, rec.Data = hash, ev.At.Add(s.opts.ConfirmTTL), d
	}
	return rec, nil
}

type confirmData struct {
	Name, Sender, ConfirmURL, Expires, PrivacyURL string
	RetentionDays                                 int
}

func (s *Service) composeConfirmation(l *store.LeadRow, firstName, tok string, now time.Time) ([]byte, string, error) {
	from, _ := mail.ParseAddress(s.opts.From)
	data := confirmData{
		Name:          lead.GreetingName(firstName),
		Sender:        cmp.Or(from.Name, from.Address),
		ConfirmURL:    s.links.Confirm(tok),
		Expires:       now.Add(s.opts.ConfirmTTL).UTC().Format("2 January 2006, 15:04 UTC"),
		RetentionDays: int(s.opts.Retention.Hours() / 24),
		PrivacyURL:    s.opts.PrivacyURL,
	}
	var subject, text, html bytes.Buffer
	if err := s.text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return nil, "", fmt.Errorf("optin: confirmation subject: %w", err)
	}
	if err := s.text.Execute(&text, data); err != nil {
		return nil, "", fmt.Errorf("optin: confirmation text: %w", err)
	}
	if err := s.html.Execute(&html, data); err != nil {
		return nil, "", fmt.Errorf("optin: confirmation html: %w", err)
	}
	mid := mailer.NewMessageID(s.domain)
	raw, err := s.composer.Compose(mailer.Message{
		From: s.opts.From, To: l.Email, Subject: strings.TrimSpace(subject.String()),
		HTML: html.String(), Text: wrap(text.String(), textWidth), MessageID: mid, Date: now,
		ListUnsubscribeURL:    s.links.Unsubscribe(l.ID),
		ListUnsubscribeMailto: s.links.UnsubscribeMailto(l.ID),
	})
	if err != nil {
		return nil, "", fmt.Errorf("optin: compose confirmation: %w", err)
	}
	return raw, mid, nil
}

// ConfirmState is what a confirmation link leads to, without acting on it.
type ConfirmState struct {
	Confirmed bool // the address is confirmed already
}

// CheckConfirm looks a token up for the page that GET shows. It changes
// nothing: link scanners follow every GET.
func (s *Service) CheckConfirm(ctx context.Context, tok string) (ConfirmState, error) {
	t, err := s.store.ConfirmToken(ctx, token.Hash(tok))
	if errors.Is(err, store.ErrNotFound) {
		return ConfirmState{}, ErrNotFound
	}
	if err != nil {
		return ConfirmState{}, err
	}
	if t.Status == lead.StatusConfirmed {
		return ConfirmState{Confirmed: true}, nil
	}
	if t.Revoked() {
		return ConfirmState{}, ErrRevoked
	}
	if !s.now().Before(t.ExpiresAt) {
		return ConfirmState{}, ErrExpired
	}
	return ConfirmState{}, nil
}

// Confirm confirms the lead behind a token. It is idempotent: a second call
// returns already = true and writes nothing. A link sent before the lead
// last unsubscribed or bounced changes nothing (ErrRevoked).
func (s *Service) Confirm(ctx context.Context, tok string, ev lead.Evidence) (already bool, err error) {
	now := s.now()
	ev.At = now
	err = s.store.WithTx(ctx, func(tx *store.Tx) error {
		t, err := tx.ConfirmTokenForUpdate(ctx, token.Hash(tok))
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if t.Status == lead.StatusConfirmed {
			already = true
			return nil
		}
		// A link sent before the lead unsubscribed or bounced does not undo
		// that; only a new signup's link does.
		if t.Revoked() {
			return ErrRevoked
		}
		if !now.Before(t.ExpiresAt) {
			return ErrExpired
		}
		// The confirmation confirms the consent given at the signup that
		// sent this link, and the lead takes what that signup said.
		signup, err := tx.ConsentEvent(ctx, t.SignupEventID)
		if err != nil {
			return err
		}
		ev.ConsentText, ev.ConsentVersion = signup.ConsentText, signup.ConsentVersion
		ev.Source = signup.Source
		ok, err := tx.ConfirmLead(ctx, t.LeadID, t.Data, t.CreatedAt, now)
		if err != nil {
			return err
		}
		if !ok {
			// The store applies the same rule; under the lead's lock it
			// refuses only what the checks above would have.
			return ErrRevoked
		}
		hash := lead.EmailHash(t.Email)
		if err := tx.Unsuppress(ctx, hash); err != nil {
			return err
		}
		// The entry names the mail whose link was confirmed: signup, mail
		// and confirmation make one chain of proof.
		if _, err := tx.AppendConsent(ctx, store.NewConsentEvent{
			LeadID: &t.LeadID, EmailHash: hash, Kind: lead.EventConfirmation, MessageID: signup.MessageID, Evidence: ev,
		}); err != nil {
			return err
		}
		if s.opts.OnConfirmed != nil {
			return s.opts.OnConfirmed(ctx, tx, t.LeadID, now)
		}
		return nil
	})
	if err == nil && !already {
		s.log.Info("optin: confirmed", "source", ev.Source)
	}
	return already, err
}

// Resend queues a new confirmation mail for the lead behind an expired
// link, unless one went out within the interval. Its result never says
// which. The new link carries what the old one did, and the ledger records
// the resend with the mail; a resend that mails nothing writes nothing. A
// link the lead has unsubscribed or bounced since is not renewed
// (ErrRevoked). Resends count against the address's signup limit
// (ErrRateLimited).
func (s *Service) Resend(ctx context.Context, tok string, ev lead.Evidence) error {
	now := s.now()
	ev.At = now
	return s.store.WithTx(ctx, func(tx *store.Tx) error {
		t, err := tx.ConfirmTokenForUpdate(ctx, token.Hash(tok))
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil || t.Status == lead.StatusConfirmed {
			return err
		}
		if t.Revoked() {
			return ErrRevoked
		}
		if err := s.allowEmail(t.Email, now); err != nil {
			return err
		}
		l, err := tx.LeadForUpdate(ctx, t.Email)
		if err != nil || !s.mailDue(l, now) {
			return err
		}
		signup, err := tx.ConsentEvent(ctx, t.SignupEventID)
		if err != nil {
			return err
		}
		ev.ConsentText, ev.ConsentVersion, ev.Source = signup.ConsentText, signup.ConsentVersion, signup.Source
		if err := tx.MarkConfirmMailed(ctx, []store.Mailed{{ID: l.ID, At: now}}); err != nil {
			return err
		}
		rec, err := s.signupRecord(l, t.Data, lead.EventResend, ev, true)
		if err != nil {
			return err
		}
		_, err = tx.RecordSignups(ctx, []store.Signup{rec})
		return err
	})
}

// CheckUnsubscribe returns the address an unsubscribe link is for.
func (s *Service) CheckUnsubscribe(ctx context.Context, tok string) (string, error) {
	id, err := s.links.VerifyUnsubscribe(tok)
	if err != nil {
		return "", ErrNotFound
	}
	l, err := s.store.LeadByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	return l.Email, nil
}

// Unsubscribe unsubscribes the lead behind a signed token and suppresses its
// address. It is idempotent: a call is written to the ledger, naming the
// consent it withdraws, when it changed something (the lead was not
// unsubscribed, or a confirmation mail went to it since it was); a repeated
// click writes nothing more.
func (s *Service) Unsubscribe(ctx context.Context, tok string, ev lead.Evidence) error {
	id, err := s.links.VerifyUnsubscribe(tok)
	if err != nil {
		return ErrNotFound
	}
	now := s.now()
	ev.At = now
	return s.store.WithTx(ctx, func(tx *store.Tx) error {
		c, err := tx.LeadConsentForUpdate(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		changed, err := tx.UnsubscribeLead(ctx, id, now)
		if err != nil {
			return err
		}
		hash := lead.EmailHash(c.Email)
		if err := tx.Suppress(ctx, hash, "unsubscribe", now); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		ev.ConsentText, ev.ConsentVersion, ev.Source = c.ConsentText, c.ConsentVersion, c.Source
		_, err = tx.AppendConsent(ctx, store.NewConsentEvent{
			LeadID: &id, EmailHash: hash, Kind: lead.EventUnsubscribe, Evidence: ev,
		})
		return err
	})
}

// Erase deletes a lead with everything known about it (GDPR Art. 17). What
// remains is the address's hash on the suppression list, so it is never
// mailed again, and a ledger entry that proves the erasure and names the
// consent it withdrew.
func (s *Service) Erase(ctx context.Context, id int64, ev lead.Evidence) error {
	now := s.now()
	ev.At = now
	return s.store.WithTx(ctx, func(tx *store.Tx) error {
		c, err := tx.LeadConsentForUpdate(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.DeleteLead(ctx, id); err != nil {
			return err
		}
		hash := lead.EmailHash(c.Email)
		if err := tx.Suppress(ctx, hash, "erasure", now); err != nil {
			return err
		}
		ev.ConsentText, ev.ConsentVersion, ev.Source = c.ConsentText, c.ConsentVersion, c.Source
		_, err = tx.AppendConsent(ctx, store.NewConsentEvent{EmailHash: hash, Kind: lead.EventErasure, Evidence: ev})
		return err
	})
}

// Purge deletes the leads that never confirmed once both their first signup
// and their last confirmation mail are older than the retention period:
// pending leads, and leads that unsubscribed or bounced before confirming.
// Their suppressions stay.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	now := s.now()
	n, err := s.store.PurgePending(ctx, now.Add(-s.opts.Retention), now)
	if err == nil && n > 0 {
		s.log.Info("optin: purged never-confirmed leads", "count", n)
	}
	return n, err
}

// Detail is a lead with its consent ledger.
type Detail struct {
	*lead.Lead
	Ledger []lead.ConsentEvent `json:"consent_ledger"`
}

// Lookup finds a lead by id or address.
func (s *Service) Lookup(ctx context.Context, ref string) (*Detail, error) {
	var l *store.LeadRow
	var err error
	if id, ok := parseID(ref); ok {
		l, err = s.store.LeadByID(ctx, id)
	} else {
		email, nerr := lead.NormalizeEmail(ref)
		if nerr != nil {
			return nil, ErrNotFound
		}
		l, err = s.store.LeadByEmail(ctx, email)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	ledger, err := s.store.ConsentLedger(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	return &Detail{Lead: &l.Lead, Ledger: ledger}, nil
}

func parseID(s string) (int64, bool) {
	var id int64
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		id = id*10 + int64(c-'0')
	}
	return id, true
}
