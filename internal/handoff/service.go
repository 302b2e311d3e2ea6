package handoff

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
)

// Store is the database as the handoff uses it; *store.Store is one.
type Store interface {
	WithTx(ctx context.Context, fn func(*store.Tx) error) error
	Handoffs(ctx context.Context, f store.HandoffFilter) ([]store.HandoffLead, error)
	HandoffLead(ctx context.Context, id int64) (*store.HandoffLead, error)
	LastDigestSlot(ctx context.Context) (*time.Time, error)
	Singleton(ctx context.Context, key int64, fn func(ctx context.Context) error) (bool, error)
}

// Stages moves leads through the funnel in the caller's transaction, with
// the stage triggers and exits; cmd/nurture adapts the dispatcher to it.
type Stages interface {
	Move(ctx context.Context, tx *store.Tx, leadID int64, sc store.StageChange, now time.Time) (Moved, error)
	OnRecycled(ctx context.Context, tx *store.Tx, leadID int64, now time.Time) (int, error)
}

// Moved is what moving a lead to a stage did, as far as a decision reports
// it: the stage the lead left and in how many sequences reaching the new
// one enrolled it.
type Moved struct {
	From     lead.Stage
	Enrolled int
}

// Webhooks enqueues the delivery of a handoff's webhook in the caller's
// transaction; it does nothing when scoring.yaml names no webhook.
type Webhooks interface {
	Enqueue(ctx context.Context, tx *store.Tx, handoffID int64) error
}

// Composer turns a mail into the exact bytes handed to SMTP.
type Composer interface {
	Compose(m mailer.Message) ([]byte, error)
}

// Waker makes the mail sender look at the outbox now; handover.Sender is one.
type Waker interface{ Wake() }

// Options wire the service; zero values take the defaults.
type Options struct {
	From      string   // From header of the owners' mails
	BaseURL   *url.URL // where the action links point; required
	Signer    *token.Signer
	Rules     func() *scoring.Rules // the live scoring.yaml; nil or a nil result: no reject reasons, no digest
	Webhooks  Webhooks              // optional
	Campaigns func() *campaign.Set  // the live campaigns: form titles and labels, step subjects; optional
	Sender    Waker                 // woken after a commit that queued mail; optional
	LinkTTL   time.Duration         // how long an action link works; default 14 days
	Activity  int                   // most activities a mail lists; default 40
}

// Service runs the handoff to sales.
type Service struct {
	store  Store
	stages Stages
	comp   Composer
	log    *slog.Logger
	now    func() time.Time
	opts   Options
	env    string // envelope sender
	domain string
	html   map[string]*htmltemplate.Template // by mail: handoff, digest
	text   *texttemplate.Template
	mu     sync.Mutex
	since  time.Time // the digest's last slot looked at, guarded by mu
}

// New returns the service. templates holds email/handoff.{html,txt},
// email/digest.{html,txt} and the frame both HTML mails fill in,
// email/base.html.
func New(st Store, stages Stages, c Composer, templates fs.FS, log *slog.Logger, now func() time.Time, opts Options) (*Service, error) {
	opts.LinkTTL = cmp.Or(opts.LinkTTL, 14*24*time.Hour)
	opts.Activity = cmp.Or(opts.Activity, 40)
	if opts.BaseURL == nil || opts.Signer == nil {
		return nil, errors.New("handoff: Options.BaseURL and Options.Signer are required")
	}
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("handoff: From %q: %w", opts.From, err)
	}
	html := map[string]*htmltemplate.Template{}
	for _, name := range []string{"handoff", "digest"} {
		t, err := htmltemplate.ParseFS(templates, "email/base.html", "email/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("handoff: %w", err)
		}
		html[name] = t
	}
	text, err := texttemplate.ParseFS(templates, "email/handoff.txt", "email/digest.txt")
	if err != nil {
		return nil, fmt.Errorf("handoff: %w", err)
	}
	return &Service{
		store: st, stages: stages, comp: c, log: log, now: now, opts: opts,
		env: from.Address, domain: from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		html: html, text: text, since: now().Add(-digestGrace),
	}, nil
}

// handoffRules is the handoff section of the live scoring.yaml, or nil.
func (s *Service) handoffRules() *scoring.Handoff {
	if s.opts.Rules == nil {
		return nil
	}
	if r := s.opts.Rules(); r != nil {
		return r.Handoff
	}
	return nil
}

// Opened queues the owner's mail of a handoff that the caller's transaction
// just inserted, and the handoff's webhook: both exist exactly when the
// handoff does. The funnel calls it as the lead becomes an MQL.
func (s *Service) Opened(ctx context.Context, tx *store.Tx, h store.Handoff) error {
	now := s.now()
	l, err := tx.Lead(ctx, h.LeadID)
	if err != nil {
		return err
	}
	story, err := tx.Story(ctx, h.LeadID, s.opts.Activity)
	if err != nil {
		return err
	}
	raw, mid, err := s.composeOwnerMail(&l.Lead, h, story, now)
	if err != nil {
		return err
	}
	// No lead id: a bounce of the owner's address must not bounce the lead.
	if _, err := tx.QueueMessage(ctx, store.NewMessage{
		Kind: "handoff", MessageID: mid, From: s.env, To: h.Owner, Raw: raw, RunAt: now,
	}); err != nil {
		return err
	}
	s.wakeAfter(tx)
	if s.opts.Webhooks != nil {
		return s.opts.Webhooks.Enqueue(ctx, tx, h.ID)
	}
	return nil
}

func (s *Service) wakeAfter(tx *store.Tx) {
	if s.opts.Sender != nil && tx.Queued() {
		tx.AfterCommit(s.opts.Sender.Wake)
	}
}
