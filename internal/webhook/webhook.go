package webhook

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

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
	Rules        func() *scoring.Rules
	Getenv       func(string) string // looks the secret's variable up; default os.Getenv
	AllowPrivate bool                // NURTURE_WEBHOOK_ALLOW_PRIVATE
	Retry        Retry               // zero fields take DefaultRetry's
	Timeout      time.Duration       // per attempt, default 10s
	Workers      int                 // deliveries at once on this node, default 4
	Poll         time.Duration       // how often River looks for due jobs, default 1s
	Activity     int                 // events in a payload, default 50
	Rand         func() float64      // the jitter's source, default rand.Float64
	Now          func() time.Time
	Log          *slog.Logger
}

// Service queues and delivers handoff webhooks.
type Service struct {
	st     *store.Store
	cfg    Config
	http   httpDoer
	client *river.Client[*sql.Tx]

	mu      sync.Mutex
	started bool // the job queue runs
	stopped bool // Stop was called: a start still waiting for the database gives up
}

// New builds the service and its River client over the store's pool. It
// delivers nothing until Start.
func New(st *store.Store, cfg Config) (*Service, error) {
	if cfg.Rules == nil {
		return nil, errors.New("webhook: Config.Rules is required")
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	cfg.Retry = cfg.Retry.withDefaults()
	cfg.Timeout = cmp.Or(cfg.Timeout, 10*time.Second)
	cfg.Workers = cmp.Or(cfg.Workers, 4)
	cfg.Poll = cmp.Or(cfg.Poll, time.Second)
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
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker{s: s}); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	client, err := river.NewClient(riverdatabasesql.New(st.DB().DB), &river.Config{
		Queues:            map[string]river.QueueConfig{queue: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		FetchPollInterval: cfg.Poll,
		FetchCooldown:     min(cfg.Poll, river.FetchCooldownDefault),
		MaxAttempts:       cfg.Retry.MaxAttempts,
		JobTimeout:        2 * cfg.Timeout,
		Logger:            cfg.Log,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook: job queue: %w", err)
	}
	s.client = client
	return s, nil
}

// Start delivers queued webhooks until Stop.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.client.Start(ctx)
	if err == nil {
		s.started = true
		return nil
	}
	if !store.Unavailable(err) {
		return fmt.Errorf("webhook: start the job queue: %w", err)
	}
	// The database is away, as it may be while the rest of the server
	// starts and answers 503s: the job queue starts once it is back.
	s.cfg.Log.Warn("webhook: the job queue starts once the database is back", "err", err)
	go s.retryStart(ctx)
	return nil
}

// retryStart starts the job queue with backoff until it starts, Stop is
// called or ctx ends.
func (s *Service) retryStart(ctx context.Context) {
	wait := time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return
		}
		err := s.client.Start(ctx)
		s.started = err == nil
		s.mu.Unlock()
		if err == nil {
			s.cfg.Log.Info("webhook: the job queue started")
			return
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// Stop lets deliveries under way finish, until ctx is done.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if !s.started {
		return nil
	}
	return s.client.Stop(ctx)
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
	_, err := s.client.InsertTx(ctx, tx.SQL(), delivery{Handoff: id}, &river.InsertOpts{Queue: queue})
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
