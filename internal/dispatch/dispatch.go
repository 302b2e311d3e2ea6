package dispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/handover"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// Sentinel outcomes callers act on.
var (
	// ErrNotFound is the store's: a lead missing there is missing here,
	// and one sentinel needs no translating.
	ErrNotFound     = store.ErrNotFound
	ErrNotEnrolled  = errors.New("dispatch: lead not enrolled (not confirmed, or enrolled already)")
	ErrInvalidStage = errors.New("dispatch: not a stage of the funnel")
)

// Composer turns a mail into the exact bytes handed to SMTP;
// *mailer.Composer is one.
type Composer interface {
	Compose(m mailer.Message) ([]byte, error)
}

// Store is the database as the dispatcher uses it; *store.Store is one.
type Store interface {
	WithTx(ctx context.Context, fn func(*store.Tx) error) error
	NextEnrolmentDue(ctx context.Context) (*time.Time, error)
	EnrolmentsOf(ctx context.Context, leadID int64) ([]lead.Enrolment, error)
	LeadByID(ctx context.Context, id int64) (*store.LeadRow, error)
	LinkSetOf(ctx context.Context, messageID int64) (int64, store.LinkSet, error)
	Relink(ctx context.Context, messageID int64, set store.LinkSet) (int64, error)
}

// Config tunes the dispatcher; zero values take the defaults.
type Config struct {
	From        string         // From header, e.g. "Acme <news@acme.example>"
	DefaultZone *time.Location // for leads without a valid timezone attribute (default UTC)
	Batch       int            // enrolments claimed per transaction (default 500)
	Workers     int            // goroutines deciding and rendering a batch (default GOMAXPROCS)
	Tick        time.Duration  // poll interval of Run (default 5s)
	Footer      string         // the sender's postal address for the layouts
	PrivacyURL  string         // the privacy policy, linked from the layouts' footer
	// Sender, when set, is handed each batch's mails as the batch commits,
	// and bounds the batch to the room it has; without one the mails wait in
	// the outbox for the relay's next claim.
	Sender handover.Sender
	// Wake, when set, makes Run look for due enrolments at once whenever
	// it fires, as the campaigns' reload does.
	Wake <-chan struct{}
	// Tracking is NURTURE_TRACKING: TrackingConsent (also ""), TrackingAll
	// or TrackingOff. Mails are tracked only with a Signer.
	Tracking string
	// Signer signs the tracking tokens (see StepMail.Signer).
	Signer *tracking.Signer
	// Fast is the demo mode: every delay is divided by FastFactor and send
	// windows are ignored, so a three-week sequence plays out in minutes.
	Fast bool
}

// FastFactor is how much --fast shortens delays: a day becomes ten
// seconds, so three weeks take three and a half minutes and a 2h wait under
// a second.
const FastFactor = 24 * 60 * 6

// Dispatcher moves enrolments through their sequences.
type Dispatcher struct {
	store    Store
	stepMail *StepMail
	again    *Recomposer
	links    linkCache
	log      *slog.Logger
	now      func() time.Time
	cfg      Config
	envFrom  string
	domain   string
	set      func() *campaign.Set
	wake     chan struct{}
}

// New returns a dispatcher over the campaigns that set returns; it is asked
// again for every batch, so a reload applies at once.
func New(st Store, set func() *campaign.Set, c Composer, links *link.Builder, log *slog.Logger, now func() time.Time, cfg Config) (*Dispatcher, error) {
	cfg.Batch = cmp.Or(cfg.Batch, 500)
	cfg.Workers = cmp.Or(cfg.Workers, runtime.GOMAXPROCS(0))
	cfg.Tick = cmp.Or(cfg.Tick, 5*time.Second)
	if cfg.DefaultZone == nil {
		cfg.DefaultZone = time.UTC
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("dispatch: From %q: %w", cfg.From, err)
	}
	d := &Dispatcher{
		store: st, log: log, now: now, cfg: cfg,
		envFrom: from.Address, domain: from.Address[strings.LastIndexByte(from.Address, '@')+1:], set: set, wake: make(chan struct{}, 1),
		stepMail: &StepMail{From: cfg.From, Footer: cfg.Footer, Privacy: cfg.PrivacyURL, Links: links, Composer: c, Signer: cfg.Signer},
	}
	d.again = &Recomposer{Leads: st, Set: set, StepMail: d.stepMail}
	return d, nil
}

// Wake makes a running dispatcher look for due enrolments now.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run drains due enrolments on every tick, wake-up, or when the next one
// falls due, until ctx is done.
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		if _, err := d.Drain(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("dispatch: drain", "err", err)
		}
		wait := d.cfg.Tick
		if next, err := d.store.NextEnrolmentDue(ctx); err == nil && next != nil {
			wait = min(wait, max(next.Sub(d.now()), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.wake:
		case <-d.cfg.Wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Drain ticks until nothing is due, and returns how many enrolments it
// handled. A step with no delay after the one just sent is due at once, so
// it goes out in the same drain. Two ticks run at once, so one batch
// renders while the other one is written; their claims never overlap.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	var (
		mu       sync.Mutex
		total    int
		firstErr error
		wg       sync.WaitGroup
	)
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				n, err := d.Tick(ctx)
				mu.Lock()
				total += n
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				if err != nil || n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	return total, firstErr
}

// Tick claims one batch of due enrolments and handles it in one
// transaction: the mails it queues exist exactly when the enrolments
// advance. With a Sender, it first waits for room for the batch's mails
// there, and hands them over once they are committed. It returns how many
// enrolments it claimed.
func (d *Dispatcher) Tick(ctx context.Context) (int, error) {
	limit := d.cfg.Batch
	var room handover.Room
	if d.cfg.Sender != nil {
		room = d.cfg.Sender.Reserve(ctx, limit, true)
		if room.N() == 0 && ctx.Err() != nil {
			return 0, nil
		}
		if room.N() > 0 {
			limit = room.N()
		}
	}
	leased := room != nil && room.N() > 0
	now := d.now()
	var (
		claimed int
		handed  []store.Claimed
	)
	err := d.store.WithTx(ctx, func(tx *store.Tx) error {
		due, err := tx.ClaimEnrolments(ctx, now, limit)
		if err != nil || len(due) == 0 {
			claimed = len(due)
			return err
		}
		claimed = len(due)
		// The campaigns are taken once the batch is claimed, not before:
		// an enrolment in a sequence that a reload has just added may be
		// among the claimed, and the campaigns from before that reload
		// would stop it as removed.
		set := d.set()
		if set == nil {
			set = &campaign.Set{}
		}
		currentScores(set, due, now)
		ids := make([]int64, len(due))
		for i := range due {
			ids[i] = due[i].ID
		}
		facts, err := tx.FactsOf(ctx, ids)
		if err != nil {
			return err
		}
		outcomes, drafts := d.decideAll(due, set, facts, now)
		queue, err := d.compose(ctx, tx, drafts, outcomes)
		if err != nil {
			return err
		}
		var lease time.Time
		if leased {
			lease = room.Until()
		}
		mailIDs, err := tx.QueueSteps(ctx, now, queue, lease)
		if err != nil {
			return err
		}
		if tx.Queued() && d.cfg.Sender != nil {
			tx.AfterCommit(d.cfg.Sender.Wake)
		}
		if leased {
			handed = make([]store.Claimed, len(queue))
			for i, m := range queue {
				handed[i] = store.Claimed{ID: mailIDs[m.MessageID], Kind: "step", LeadID: &m.LeadID, From: m.From, To: m.To, Raw: m.Raw, Attempts: 1}
			}
		}
		return tx.SaveEnrolments(ctx, now, outcomes)
	})
	if err != nil {
		if room != nil {
			room.Cancel()
		}
		return 0, fmt.Errorf("dispatch: tick: %w", err)
	}
	if room != nil {
		room.Hand(handed)
	}
	return claimed, nil
}

// decideAll decides a claimed batch on the configured number of workers,
// and returns each enrolment's outcome and the mails to compose.
func (d *Dispatcher) decideAll(due []store.Due, set *campaign.Set, facts map[int64][]store.Fact, now time.Time) ([]store.Outcome, []*draft) {
	outcomes := make([]store.Outcome, len(due))
	mails := make([]*draft, len(due))
	each(len(due), d.cfg.Workers, func(i int) {
		outcomes[i], mails[i] = d.decide(&due[i], set, facts[due[i].ID], now)
	})
	drafts := make([]*draft, 0, len(due))
	for i, m := range mails {
		if m != nil {
			m.index = i
			drafts = append(drafts, m)
		}
	}
	return outcomes, drafts
}

// each calls fn for every index below n on at most workers goroutines.
// The goroutines take the indexes in turn, so a batch starts as many as
// it has workers, not one per mail: each grows its stack for rendering
// and composing once.
func each(n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, workers) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// currentScores brings each claimed lead's score to now, decayed since it
// was stored, for the conditions and the mails.
func currentScores(set *campaign.Set, due []store.Due, now time.Time) {
	if set.Scoring == nil {
		return
	}
	for i := range due {
		set.Scoring.Current(&due[i].Lead, now)
	}
}
