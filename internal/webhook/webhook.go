package webhook

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/riverqueue/river"

	"github.com/nurture/nurture/internal/jobs"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
)

// ErrNoWebhook means scoring.yaml names no webhook, so there is nothing
// to deliver.
var ErrNoWebhook = errors.New("webhook: scoring.yaml has no handoff webhook")

// queue is River's queue of webhook deliveries.
const queue = "webhook"

// Config tunes the service; zero values take the defaults.
type Config struct {
	// Rules returns the scoring rules in force; their handoff.webhook is
	// where deliveries go. Required.
	Rules func() *scoring.Rules
	// Jobs is the server's job queue, which the deliveries are jobs of.
	// Required; New registers the worker, so it comes before Jobs.Start.
	Jobs         *jobs.Queue
	Getenv       func(string) string // looks the secret's variable up; default os.Getenv
	AllowPrivate bool                // NURTURE_WEBHOOK_ALLOW_PRIVATE
	Retry        Retry               // zero fields take DefaultRetry's
	Timeout      time.Duration       // per attempt, default 10s
	Workers      int                 // deliveries at once on this node, default 4
	Activity     int                 // events in a payload, default 50
	Rand         func() float64      // the jitter's source, default rand.Float64
	Now          func() time.Time
	Log          *slog.Logger
}

// Service queues and delivers handoff webhooks.
type Service struct {
	st   *store.Store
	cfg  Config
	http httpDoer
}

// New builds the service and registers its worker and queue with
// cfg.Jobs, which delivers once it starts.
func New(st *store.Store, cfg Config) (*Service, error) {
	if cfg.Rules == nil {
		return nil, errors.New("webhook: Config.Rules is required")
	}
	if cfg.Jobs == nil {
		return nil, errors.New("webhook: Config.Jobs is required")
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	cfg.Retry = cfg.Retry.withDefaults()
	cfg.Timeout = cmp.Or(cfg.Timeout, 10*time.Second)
	cfg.Workers = cmp.Or(cfg.Workers, 4)
	cfg.Activity = cmp.Or(cfg.Activity, 50)
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{st: st, cfg: cfg, http: newClient(cfg.Timeout, cfg.AllowPrivate)}
	if err := river.AddWorkerSafely(cfg.Jobs.Workers(), &worker{s: s}); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	cfg.Jobs.AddQueue(queue, cfg.Workers)
	return s, nil
}

// Enqueue queues the delivery of handoff id in tx, the transaction that
// made it, and marks the handoff's webhook pending. Without a webhook in
// scoring.yaml it does nothing, and the state stays none.
func (s *Service) Enqueue(ctx context.Context, tx *store.Tx, id int64) error {
	if s.webhook() == nil {
		return nil
	}
	return s.insert(ctx, tx, id)
}

// Redeliver queues a new delivery of handoff id now, whatever became of
// the earlier ones (a 410 included): for an operator who has fixed the
// receiver. It clears the receiver's 410 mark, so later handoffs are
// posted to it again. ErrNoWebhook without a webhook; store.ErrNotFound
// without such a handoff.
func (s *Service) Redeliver(ctx context.Context, id int64) error {
	wh := s.webhook()
	if wh == nil {
		return ErrNoWebhook
	}
	return s.st.WithTx(ctx, func(tx *store.Tx) error {
		if err := s.insert(ctx, tx, id); err != nil {
			return err
		}
		return tx.ClearEndpointGone(ctx, wh.URL)
	})
}

// Attempts returns the delivery attempts of handoff id, oldest first.
func (s *Service) Attempts(ctx context.Context, id int64) ([]store.WebhookAttempt, error) {
	return s.st.WebhookAttempts(ctx, id)
}

func (s *Service) insert(ctx context.Context, tx *store.Tx, id int64) error {
	if err := tx.SetWebhook(ctx, id, store.WebhookPending); err != nil {
		return fmt.Errorf("webhook: enqueue handoff %d: %w", id, err)
	}
	err := s.cfg.Jobs.InsertTx(ctx, tx.SQL(), delivery{Handoff: id}, &river.InsertOpts{Queue: queue, MaxAttempts: s.cfg.Retry.MaxAttempts})
	if err != nil {
		return fmt.Errorf("webhook: enqueue handoff %d: %w", id, err)
	}
	return nil
}

func (s *Service) webhook() *scoring.Webhook {
	r := s.cfg.Rules()
	if r == nil || r.Handoff == nil {
		return nil
	}
	return r.Handoff.Webhook
}
