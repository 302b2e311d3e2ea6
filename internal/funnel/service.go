package funnel

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// StageFunc moves a lead to a stage in the caller's transaction, with the
// stage's exits and triggers, as dispatch.(*Dispatcher).StageChanged does.
type StageFunc func(ctx context.Context, tx *store.Tx, leadID int64, c store.StageChange, now time.Time) error

// Handoffs takes each handoff scoring opens, in the transaction that
// opened it: the handoff service mails the owner and queues the webhook.
type Handoffs interface {
	Opened(ctx context.Context, tx *store.Tx, h store.Handoff) error
}

// Config is what a Service needs besides the store.
type Config struct {
	Rules    func() *scoring.Rules // the live scoring.yaml; nil rules: nothing is scored
	Stage    StageFunc
	Handoffs Handoffs // nil: handoffs are opened but handed to nobody
	Batch    int      // events (or leads) per transaction; 200
	Tick     time.Duration
	// Settle is how long opens and clicks wait before they are scored,
	// since a later click of the same burst can still mark them a
	// scanner's; tracking.DefaultBurstWindow.
	Settle time.Duration
	// Stale is the age from which the decay refresh stores a lead's score
	// again; 20h, so that an hourly refresh keeps every score under a day
	// old even when a run is missed.
	Stale time.Duration
}

// Service scores events and moves leads that become MQLs to sales.
type Service struct {
	store *store.Store
	log   *slog.Logger
	now   func() time.Time
	cfg   Config
	wake  chan struct{}
}

// New returns a Service; Run starts its scorer.
func New(st *store.Store, log *slog.Logger, now func() time.Time, cfg Config) *Service {
	cfg.Batch = cmp.Or(cfg.Batch, 200)
	cfg.Tick = cmp.Or(cfg.Tick, 5*time.Second)
	cfg.Settle = cmp.Or(cfg.Settle, tracking.DefaultBurstWindow)
	cfg.Stale = cmp.Or(cfg.Stale, 20*time.Hour)
	return &Service{store: st, log: log, now: now, cfg: cfg, wake: make(chan struct{}, 1)}
}

// Wake makes a running scorer look for unscored events now: the event
// recorder calls it after each commit.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run scores events on every wake-up and tick until ctx ends. A wake-up
// scores what is due at once (an API event, say) and looks again once the
// opens and clicks it may have come for have settled: each wake-up's own
// look, so a stream of events never pushes an earlier one's look back.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	var looks lookups
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
			looks.add(time.Now().Add(s.cfg.Settle + 10*time.Millisecond))
		case <-t.C:
			looks.pass(time.Now())
		}
		t.Reset(looks.wait(time.Now(), s.cfg.Tick))
		if _, err := s.ScoreDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("funnel: scoring events", "err", err)
		}
	}
}

// lookups are the times the scorer must look again, in order: one per
// wake-up, rounded up to the next twentieth of a second so that a stream
// of wake-ups makes at most twenty looks a second, none of them early.
type lookups []time.Time

const lookGrain = 50 * time.Millisecond

func (l *lookups) add(at time.Time) {
	if r := at.Truncate(lookGrain); !r.Equal(at) {
		at = r.Add(lookGrain)
	}
	if n := len(*l); n > 0 && !at.After((*l)[n-1]) {
		return
	}
	*l = append(*l, at)
}

// pass drops the looks due by now.
func (l *lookups) pass(now time.Time) {
	i := 0
	for i < len(*l) && !(*l)[i].After(now) {
		i++
	}
	*l = (*l)[i:]
}

// wait is how long until the next look, or tick when none is pending.
func (l lookups) wait(now time.Time, tick time.Duration) time.Duration {
	if len(l) == 0 {
		return tick
	}
	return max(l[0].Sub(now), 0)
}

// OnConfirmed records the confirmation of a lead as an event of source
// system in the confirming transaction, so that it earns points.confirmed,
// and wakes the scorer once that commits. It fits optin's confirm hook.
func (s *Service) OnConfirmed(ctx context.Context, tx *store.Tx, leadID int64, now time.Time) error {
	if _, err := tx.RecordSystemEvent(ctx, leadID, string(scoring.SignalConfirmed), now); err != nil {
		return err
	}
	tx.AfterCommit(s.Wake)
	return nil
}
