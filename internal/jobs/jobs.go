package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

	"github.com/nurture/nurture/internal/store"
)

// Config tunes a Queue; zero values take the defaults.
type Config struct {
	Poll time.Duration // how often River looks for due jobs, default 1s
	Log  *slog.Logger
}

// Queue is the River client of a server. Services register their workers
// and queues (Workers, AddQueue) and the tasks (Task) before Start, which
// builds the working client; jobs are inserted at any time.
type Queue struct {
	db     *sql.DB
	cfg    Config
	insert *river.Client[*sql.Tx] // insert-only: no queues, no workers

	workers *river.Workers
	queues  map[string]river.QueueConfig
	tasks   map[string]func(context.Context) error

	mu      sync.Mutex
	client  *river.Client[*sql.Tx] // the working one, once Start built it
	started bool                   // it runs
	stopped bool                   // Stop was called: a start still waiting for the database gives up
}

// New returns a Queue over db that works no job until Start.
func New(db *sql.DB, cfg Config) (*Queue, error) {
	cfg.Poll = cmp.Or(cfg.Poll, time.Second)
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	insert, err := river.NewClient(riverdatabasesql.New(db), &river.Config{Logger: cfg.Log})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	q := &Queue{db: db, cfg: cfg, insert: insert, workers: river.NewWorkers(),
		queues: map[string]river.QueueConfig{}, tasks: map[string]func(context.Context) error{}}
	if err := river.AddWorkerSafely(q.workers, &taskWorker{q: q}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	q.queues[taskQueue] = river.QueueConfig{MaxWorkers: 2}
	return q, nil
}

// Workers is the bundle a service adds its workers to, before Start.
func (q *Queue) Workers() *river.Workers { return q.workers }

// AddQueue makes this node work a queue with up to maxWorkers jobs at once.
func (q *Queue) AddQueue(name string, maxWorkers int) {
	q.queues[name] = river.QueueConfig{MaxWorkers: maxWorkers}
}

// InsertTx queues a job in tx, the transaction that causes it.
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	_, err := q.insert.InsertTx(ctx, tx, args, opts)
	return err
}

// Start works the jobs until Stop. While the database is away, as it may
// be while the rest of the server starts and answers 503s, the client
// starts once it is back.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.client == nil {
		c, err := river.NewClient(riverdatabasesql.New(q.db), &river.Config{
			Queues:            maps.Clone(q.queues),
			Workers:           q.workers,
			FetchPollInterval: q.cfg.Poll,
			FetchCooldown:     min(q.cfg.Poll, river.FetchCooldownDefault),
			Logger:            q.cfg.Log,
		})
		if err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
		q.client = c
	}
	err := q.client.Start(ctx)
	if err == nil {
		q.started = true
		return nil
	}
	if !store.Unavailable(err) {
		return fmt.Errorf("jobs: start the job queue: %w", err)
	}
	q.cfg.Log.Warn("jobs: the job queue starts once the database is back", "err", err)
	go q.retryStart(ctx)
	return nil
}

// retryStart starts the client with backoff until it starts, Stop is
// called or ctx ends.
func (q *Queue) retryStart(ctx context.Context) {
	wait := time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		q.mu.Lock()
		if q.stopped {
			q.mu.Unlock()
			return
		}
		err := q.client.Start(ctx)
		q.started = err == nil
		q.mu.Unlock()
		if err == nil {
			q.cfg.Log.Info("jobs: the job queue started")
			return
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// Stop lets the jobs under way finish, until ctx is done.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopped = true
	if !q.started {
		return nil
	}
	return q.client.Stop(ctx)
}

// ErrUnknownTask is a task that was never registered.
var ErrUnknownTask = errors.New("jobs: no such task")
