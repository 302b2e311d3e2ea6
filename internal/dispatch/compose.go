package dispatch

import (
	"context"
	"sync"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
)

// Tracking modes (NURTURE_TRACKING).
const (
	TrackingConsent = "consent" // leads that agreed to it; the default
	TrackingAll     = "all"     // every lead
	TrackingOff     = "off"     // no lead
)

// draft is a step mail that decide rendered, for compose to track and
// compose once the batch knows the ids of its tracked mails.
type draft struct {
	index   int // of its enrolment in the batch
	msg     mailer.Message
	tracked bool
	step    *store.StepMessage // without its bytes
	retry   store.Outcome      // the enrolment's outcome should composing fail
}

// tracked reports whether a lead's mails are tracked: with every lead's
// under TrackingAll, with those of leads that agreed under TrackingConsent.
func (d *Dispatcher) tracked(l *lead.Lead) bool {
	if d.stepMail.Signer == nil {
		return false
	}
	switch d.cfg.Tracking {
	case TrackingAll:
		return true
	case TrackingOff:
		return false
	}
	return l.Tracking
}

// compose finishes a batch's drafts into the mails to queue: the tracked
// ones get ids reserved for them, are rewritten for those ids, and name
// their sets of links; all are composed into their bytes. A draft that
// does not compose is dropped, and its enrolment's outcome becomes its
// retry. Three round trips at most, whatever the batch: the ids, and the
// sets not seen before.
func (d *Dispatcher) compose(ctx context.Context, tx *store.Tx, drafts []*draft, outcomes []store.Outcome) ([]store.StepMessage, error) {
	n := 0
	for _, dr := range drafts {
		if dr.tracked {
			n++
		}
	}
	ids, err := tx.ReserveMessageIDs(ctx, n)
	if err != nil {
		return nil, err
	}
	for _, dr := range drafts {
		if dr.tracked {
			dr.step.ID, ids = ids[0], ids[1:]
		}
	}
	sets := make([]*store.LinkSet, len(drafts))
	failed := make([]error, len(drafts))
	each(len(drafts), d.cfg.Workers, func(i int) {
		dr := drafts[i]
		if dr.tracked {
			links, err := d.stepMail.Track(&dr.msg, dr.step.ID)
			if err != nil {
				failed[i] = err
				return
			}
			s := store.NewLinkSet(links)
			sets[i] = &s
		}
		dr.step.Raw, failed[i] = d.stepMail.Composer.Compose(dr.msg)
	})
	if err := d.linkSets(ctx, tx, drafts, sets); err != nil {
		return nil, err
	}
	queue := make([]store.StepMessage, 0, len(drafts))
	for i, dr := range drafts {
		if failed[i] != nil {
			d.log.Error("dispatch: step mail does not compose; will retry", "step", dr.step.StepKey, "lead", dr.step.LeadID, "err", failed[i])
			outcomes[dr.index] = dr.retry
			continue
		}
		queue = append(queue, *dr.step)
	}
	return queue, nil
}

// linkSets names each tracked draft's set of links, storing the sets that
// are new. The ids of the sets this transaction stores are remembered once
// it commits: a set rolled back with it does not exist.
func (d *Dispatcher) linkSets(ctx context.Context, tx *store.Tx, drafts []*draft, sets []*store.LinkSet) error {
	var unknown []store.LinkSet
	var waiting []int
	for i, s := range sets {
		if s == nil {
			continue
		}
		if id, ok := d.links.get(s.Digest); ok {
			drafts[i].step.LinkSet = id
			continue
		}
		unknown, waiting = append(unknown, *s), append(waiting, i)
	}
	if len(unknown) == 0 {
		return nil
	}
	ids, err := tx.LinkSets(ctx, unknown)
	if err != nil {
		return err
	}
	for j, i := range waiting {
		drafts[i].step.LinkSet = ids[j]
	}
	tx.AfterCommit(func() {
		for j, s := range unknown {
			d.links.put(s.Digest, ids[j])
		}
	})
	return nil
}

// linkCache remembers the ids of stored sets of links by digest: most
// mails of a step share one set, which is then looked up once.
type linkCache struct {
	mu  sync.Mutex
	ids map[string]int64
}

// linkCacheSize bounds the cache: steps whose links differ for every lead
// would otherwise grow it without end. Past it, the cache starts anew.
const linkCacheSize = 10_000

func (c *linkCache) get(digest []byte) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[string(digest)]
	return id, ok
}

func (c *linkCache) put(digest []byte, id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil || len(c.ids) >= linkCacheSize {
		c.ids = make(map[string]int64)
	}
	c.ids[string(digest)] = id
}
