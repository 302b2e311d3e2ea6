package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/engage"
	"github.com/nurture/nurture/internal/funnel"
	"github.com/nurture/nurture/internal/handoff"
	"github.com/nurture/nurture/internal/jobs"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/optin"
	"github.com/nurture/nurture/internal/outbox"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/webhook"
	"github.com/nurture/nurture/templates"
)

func runMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	get, err := config.FromEnv()
	if err != nil {
		return err
	}
	cfg, err := config.Load(get, "NURTURE_DATABASE_URL")
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := store.Migrate(ctx, db.DB)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migration(s); the schema is current\n", n)
	return nil
}

// templateFS is the built-in templates, or a folder that overrides them.
func templateFS(dir string) fs.FS {
	if dir == "" {
		return templates.FS
	}
	return os.DirFS(dir)
}

func runServe(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	fast := flags.Bool("fast", false, "demo mode: a day of delay takes ten seconds, send windows are ignored and the scan window is 2s")
	if err := flags.Parse(args); err != nil {
		return err
	}
	log := newLogger()
	get, err := config.FromEnv()
	if err != nil {
		return err
	}
	cfg, err := config.Load(get, config.ServeNeeds...)
	if err != nil {
		return err
	}
	if *fast {
		demoMode(cfg, get)
	}
	app, err := wire(ctx, cfg, log, time.Now)
	if err != nil {
		return err
	}
	defer app.close()
	return app.run(ctx)
}

// fastScanWindow is the scan window of the demo mode. A day of delay takes
// ten seconds there, and a person trying the story clicks a few seconds
// after the mail landed: the default 30 seconds would span three of the
// demo's days and take every such click whose browser does not say a
// person clicked (no Sec-Fetch-User: curl, older Safari, some mail apps)
// for a scanner's.
const fastScanWindow = 2 * time.Second

// demoMode applies serve --fast to cfg: a day of delay takes ten seconds,
// send windows are ignored, and the scan window is fastScanWindow unless
// NURTURE_SCAN_WINDOW says otherwise.
func demoMode(cfg *config.Config, get config.Source) {
	cfg.Fast = true
	if strings.TrimSpace(get("NURTURE_SCAN_WINDOW")) == "" {
		cfg.ScanWindow = fastScanWindow
	}
}

// app is a wired server.
type app struct {
	cfg      *config.Config
	log      *slog.Logger
	store    *store.Store
	pool     *mailer.Pool
	relay    *outbox.Relay
	optin    *optin.Service
	engage   *engage.Service
	dispatch *dispatch.Dispatcher
	funnel   *funnel.Service
	handoff  *handoff.Service
	seq      *sequences
	webhooks *webhook.Service
	queue    *jobs.Queue
	now      func() time.Time
	http     *http.Server
	closer   []func()
}

// newHTTPServer is the HTTP server Nurture serves with; the signup
// benchmark's bare baseline serves with it too.
func newHTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func (a *app) close() {
	for i := len(a.closer) - 1; i >= 0; i-- {
		a.closer[i]()
	}
}

// run serves until ctx is done, then shuts down in order: stop taking
// requests and let in-flight ones finish, let the outbox finish the SMTP
// transactions it started and release the mail it holds, then close the
// SMTP connections.
func (a *app) run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.cfg.Listen, err)
	}
	return a.serve(ctx, ln)
}

func (a *app) serve(ctx context.Context, ln net.Listener) error {
	a.log.Info("serving", "addr", ln.Addr().String(), "base_url", a.cfg.BaseURL.String())

	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.relay.Run(work); err != nil {
			a.log.Error("outbox: the relay stopped with mail it could not record", "err", err)
		}
	})

	wg.Go(func() { a.dispatch.Run(work) })
	wg.Go(func() { a.funnel.Run(work) })
	c := a.jobs(work)
	wg.Go(func() { a.warmLinks(work) })
	a.seq.start(work, &wg)
	c.Start()
	if err := a.queue.Start(work); err != nil {
		stopWork()
		cronDone := c.Stop()
		<-cronDone.Done()
		wg.Wait()
		return err
	}

	served := make(chan error, 1)
	go func() { served <- a.http.Serve(ln) }()
	select {
	case err := <-served:
		stopWork()
		a.queue.Stop(context.Background())
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	return a.shutdown(c, stopWork, &wg)
}

// jobs are the server's periodic jobs, on a cron not yet started: each
// runs with work, the context the server's workers stop on.
func (a *app) jobs(work context.Context) *cron.Cron {
	c := cron.New(cron.WithLocation(time.UTC))
	c.AddFunc("@every 1h", func() {
		_, err := a.store.Singleton(work, store.LockPurge, func(ctx context.Context) error {
			_, err := a.optin.Purge(ctx)
			return err
		})
		if err != nil {
			a.log.Error("purge failed", "err", err)
		}
	})
	// The digest of open handoffs: its schedule is scoring.yaml's, looked
	// at every minute by a task that one node runs (see wire's tasks).
	c.AddFunc("@every 1m", func() { a.due(work, taskDigest, time.Minute) })
	// Decay: every hour one node stores again the scores older than 20h,
	// so that none is more than a day stale even when a run is missed.
	c.AddFunc("@hourly", func() { a.due(work, taskDecay, time.Hour) })
	// The links of recent mail, kept in memory so that they redirect
	// while the database is down, whichever node sent the mail.
	c.AddFunc("@every 1m", func() { a.warmLinks(work) })
	// A tick wakes the dispatcher every minute besides its own poll.
	c.AddFunc("@every 1m", a.dispatch.Wake)
	return c
}

// due queues a task for the slot of every that now falls in: every node's
// cron calls it, and one job of the task and slot runs, on one node.
func (a *app) due(ctx context.Context, task string, every time.Duration) {
	if err := a.queue.Due(ctx, task, a.now().Truncate(every)); err != nil && !store.Unavailable(err) && ctx.Err() == nil {
		a.log.Error("jobs: queueing a task failed", "task", task, "err", err)
	}
}

// warmLinks reads the tracked mails sent since the last look into the
// engagement service's memory (engage.Service.Warm). While the database is
// away there is nothing to read, and the mail kept stays kept.
func (a *app) warmLinks(ctx context.Context) {
	n, err := a.engage.Warm(ctx)
	switch {
	case err != nil && !store.Unavailable(err) && ctx.Err() == nil:
		a.log.Warn("engage: reading the links of recent mail failed", "err", err)
	case n > 0:
		a.log.Debug("engage: links of recent mail kept", "mails", n)
	}
}

// shutdown stops the server in order once its context is done (see run).
func (a *app) shutdown(c *cron.Cron, stopWork context.CancelFunc, wg *sync.WaitGroup) error {
	a.log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := a.http.Shutdown(shutdown)
	// Signups whose caller gave up after they were taken are still being
	// written; let their batch commit before the relay stops.
	a.optin.Wait()
	a.engage.Wait()
	// The relay finishes the SMTP transactions under way and gives the
	// rest of what it holds back to the queue; a purge under way stops.
	cronDone := c.Stop()
	// Jobs under way (deliveries, a digest, the decay) finish; River
	// gives the rest back when they do not in time.
	if err := a.queue.Stop(shutdown); err != nil {
		a.log.Warn("jobs: the jobs under way did not stop in time", "err", err)
	}
	stopWork()
	<-cronDone.Done()
	wg.Wait()
	a.pool.Close(shutdown)
	a.log.Info("stopped")
	return err
}
