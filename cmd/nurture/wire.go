package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/handoff"
	"github.com/nurture/nurture/internal/jobs"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/optin"
	"github.com/nurture/nurture/internal/outbox"
	"github.com/nurture/nurture/internal/report"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
	"github.com/nurture/nurture/internal/tracking"
	"github.com/nurture/nurture/internal/web"
	"github.com/nurture/nurture/internal/webhook"
)

// wire builds the server. Each part is built from parts built before it,
// held in local variables, so that a wrong order does not compile.
func wire(ctx context.Context, cfg *config.Config, log *slog.Logger, now func() time.Time) (*app, error) {
	a := &app{cfg: cfg, log: log, now: now}
	if err := a.wire(ctx, now); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *app) wire(ctx context.Context, now func() time.Time) error {
	cfg, log := a.cfg, a.log
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	composer, err := composerFor(cfg)
	if err != nil {
		return err
	}
	tpl := templateFS(cfg.Templates)
	signer := token.NewSigner(cfg.Secret)
	links := link.New(cfg.BaseURL, signer, cfg.UnsubscribeMailto)
	seq, err := wireSequences(st, cfg, tpl, log, now)
	if err != nil {
		return err
	}
	smtpCfg := cfg.SMTP // parsed and checked by config.Load
	smtpCfg.Conns, smtpCfg.Rate, smtpCfg.ReplyTimeout = cfg.SMTPConns, cfg.SMTPRate, cfg.SMTPReplyTimeout
	pool := mailer.NewPool(smtpCfg, log)
	relay, disp, err := wireDispatch(st, seq, pool, composer, links, cfg, log, now)
	if err != nil {
		return err
	}
	queue, err := jobs.New(st.DB().DB, jobs.Config{Log: log})
	if err != nil {
		return err
	}
	// Without scoring.yaml, or a webhook in it, there is none to deliver to.
	hooks, err := webhook.New(st, webhook.Config{Rules: seq.scoring, Jobs: queue, AllowPrivate: cfg.WebhookAllowPrivate, Now: now, Log: log})
	if err != nil {
		return err
	}
	sales, err := handoff.New(st, handoffStages{disp}, composer, tpl, log, now, handoff.Options{
		From: cfg.From, BaseURL: cfg.BaseURL, Signer: signer, Sender: relay,
		Rules: seq.scoring, Webhooks: hooks, Campaigns: seq.set,
	})
	if err != nil {
		return err
	}
	fun := newFunnel(st, seq, disp, sales, cfg.Tick, cfg.BurstWindow, log, now)
	eng, err := wireEngage(st, cfg, disp, fun.Wake, log, now)
	if err != nil {
		return err
	}
	opt, err := optin.New(st, composer, links, tpl, log, now, optin.Options{
		From:            cfg.From,
		ConfirmTTL:      cfg.ConfirmTTL,
		ConfirmInterval: cfg.ConfirmInterval,
		Retention:       cfg.PendingRetention,
		RatePerEmail:    cfg.RateEmail,
		PrivacyURL:      cfg.PrivacyURL,
		Tracking:        cfg.Tracking,
		OnConfirmed:     confirmed(disp.OnConfirmed, fun.OnConfirmed),
		Sender:          relay,
	})
	if err != nil {
		return err
	}
	a.store, a.pool, a.relay, a.seq, a.dispatch, a.optin = st, pool, relay, seq, disp, opt
	a.engage, a.funnel, a.handoff, a.webhooks, a.queue = eng, fun, sales, hooks, queue
	queue.Task(taskDigest, func(ctx context.Context) error { _, err := sales.DigestDue(ctx); return err })
	queue.Task(taskDecay, func(ctx context.Context) error { _, err := fun.Refresh(ctx); return err })
	srv, err := web.New(opt, a.webConfig(signer, tpl, now))
	if err != nil {
		return err
	}
	a.http = newHTTPServer(cfg.Listen, srv.Handler(), log)
	return nil
}

// The tasks that one node runs each time their schedule (see jobs) falls
// due: the digest of open handoffs, whose own schedule is scoring.yaml's,
// and the refresh of decayed scores.
const (
	taskDigest = "handoff-digest"
	taskDecay  = "score-decay"
)

// wireDispatch builds the relay, which sends every mail: what it claims
// from the outbox, and what the opt-in and the dispatcher hand it as they
// commit; and the dispatcher. Step mails are handed over without their
// bytes stored; after a crash they are composed again.
func wireDispatch(st *store.Store, seq *sequences, pool *mailer.Pool, composer *mailer.Composer, links *link.Builder, cfg *config.Config, log *slog.Logger, now func() time.Time) (*outbox.Relay, *dispatch.Dispatcher, error) {
	trackSigner := tracking.NewSigner(cfg.Secret)
	steps := &dispatch.StepMail{From: cfg.From, Footer: cfg.PostalAddress, Privacy: cfg.PrivacyURL, Links: links, Composer: composer, Signer: trackSigner}
	relay := outbox.New(st, pool, log, now, outbox.Config{
		Workers:   cfg.SMTPConns,
		Recompose: (&dispatch.Recomposer{Leads: st, Set: seq.set, StepMail: steps}).Recompose,
	})
	disp, err := dispatch.New(st, seq.set, composer, links, log, now, dispatch.Config{
		From:        cfg.From,
		Footer:      cfg.PostalAddress,
		PrivacyURL:  cfg.PrivacyURL,
		DefaultZone: cfg.DefaultTimezone,
		Tick:        cfg.Tick,
		Fast:        cfg.Fast,
		Tracking:    cfg.Tracking,
		Signer:      trackSigner,
		Sender:      relay,
		Wake:        seq.changes(),
	})
	return relay, disp, err
}

// webConfig is the HTTP layer's view of the services wired into a.
func (a *app) webConfig(signer *token.Signer, tpl fs.FS, now func() time.Time) web.Config {
	cfg, seq := a.cfg, a.seq
	return web.Config{
		BaseURL:        cfg.BaseURL,
		AdminToken:     cfg.AdminToken,
		TrustedProxies: cfg.TrustedProxies,
		RedirectHosts:  cfg.RedirectHosts,
		Signer:         signer,
		Version:        version,
		RatePerIP:      cfg.RateIP,
		Templates:      tpl,
		Now:            now,
		Log:            a.log,
		Sequences:      stageAPI{Dispatcher: a.dispatch, store: a.store, funnel: a.funnel, handoff: a.handoff, now: now},
		Tracking:       a.optin,
		Site:           siteEvents{a.engage},
		SiteHosts:      cfg.SiteHosts,
		SiteSigner:     tracking.NewSigner(cfg.Secret),
		Webhooks:       a.webhooks,
		Sales:          a.handoff,
		SalesToken:     cfg.SalesToken,
		Engage:         a.engage,
		Reports:        report.New(a.store, func() []string { return stepKeys(seq.set()) }),
		Forms:          func() campaign.Forms { return seq.set().Forms },
		PrivacyURL:     cfg.PrivacyURL,
		Ready:          ready(a.store.DB()),
	}
}

// openStore connects, migrates and prepares the queries.
func (a *app) openStore(ctx context.Context) (*store.Store, error) {
	db, err := store.Open(ctx, a.cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a.closer = append(a.closer, func() { db.Close() })
	if n, err := store.Migrate(ctx, db.DB); err != nil {
		return nil, err
	} else if n > 0 {
		a.log.Info("migrated the database", "applied", n)
	}
	st, err := store.New(ctx, db)
	if err != nil {
		return nil, err
	}
	a.closer = append(a.closer, func() { st.Close() })
	return st, nil
}

// ready is GET /readyz's check: the database answers and its schema is
// current.
func ready(db *sqlx.DB) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := db.PingContext(ctx); err != nil {
			return fmt.Errorf("database unreachable: %w", err)
		}
		ok, err := store.MigrationsCurrent(ctx, db.DB)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("database migrations are not current")
		}
		return nil
	}
}
