package engage

import (
	"context"

	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// writeBatch resolves the batch's mails, then writes its events in one
// transaction, again if it hit a deadlock (another node's batch locking the
// same clicks or facts in another order), and gives every pending its
// outcome.
func (s *Service) writeBatch(ctx context.Context, batch []*pending) {
	live, err := s.resolve(ctx, batch)
	if err != nil {
		finish(live, err)
		return
	}
	if len(live) == 0 {
		return
	}
	var n int
	for range batchRetries {
		err = s.st.WithTx(ctx, func(tx *store.Tx) error {
			var err error
			n, err = s.writeTx(ctx, tx, live)
			return err
		})
		if !store.Retryable(err) {
			break
		}
	}
	if err == nil && n > 0 {
		s.recorded.Add(int64(n))
		s.batches.Add(1)
		if s.cfg.Recorded != nil {
			s.cfg.Recorded()
		}
	}
	if err != nil {
		s.cfg.Log.Warn("engage: events not recorded", "events", len(live), "err", err)
	}
	finish(live, err)
}

// finish gives each pending the batch's outcome, or its own error.
func finish(ps []*pending, err error) {
	for _, p := range ps {
		if err == nil {
			p.done <- p.err
		} else {
			p.done <- err
		}
	}
}

// resolve looks up the mails of the batch's opens and clicks, in the cache
// or in one query, and the clicks' targets. It answers at once the opens
// and clicks of unknown mails or links (ErrUnknown) and the clicks that are
// only followed (tracking off), and returns the rest. On an error it
// returns the whole batch, to fail.
func (s *Service) resolve(ctx context.Context, batch []*pending) ([]*pending, error) {
	var missing []int64
	for _, p := range batch {
		if p.events == nil && s.cache.get(p.ref.Message) == nil {
			missing = append(missing, p.ref.Message)
		}
	}
	var found map[int64]*store.TrackedMessage
	if len(missing) > 0 {
		var err error
		if found, err = s.st.TrackedMessages(ctx, missing); err != nil {
			return batch, err
		}
		for _, m := range found {
			s.cache.put(m)
		}
	}
	live := batch[:0:0]
	for _, p := range batch {
		if p.events != nil {
			live = append(live, p)
			continue
		}
		p.msg = s.cache.get(p.ref.Message)
		if p.msg == nil {
			p.msg = found[p.ref.Message]
		}
		ok := p.msg != nil
		if ok && p.ref.Kind == tracking.KindClick {
			p.target, ok = s.target(p.msg, p.ref.Link)
		}
		switch {
		case !ok:
			p.done <- ErrUnknown
		case p.skip:
			p.done <- nil
		default:
			live = append(live, p)
		}
	}
	return live, nil
}

// writeTx writes the batch's opens and clicks, then its other events, and
// returns how many rows it wrote.
func (s *Service) writeTx(ctx context.Context, tx *store.Tx, batch []*pending) (int, error) {
	var hits, evs []*pending
	for _, p := range batch {
		p.err = nil
		if p.events != nil {
			evs = append(evs, p)
		} else {
			hits = append(hits, p)
		}
	}
	n := 0
	if len(hits) > 0 {
		k, err := s.writeHits(ctx, tx, hits)
		if err != nil {
			return 0, err
		}
		n += k
	}
	if len(evs) > 0 {
		k, err := s.writeEvents(ctx, tx, evs)
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}

// facts gathers a batch's lead facts, one per lead, kind and key.
type facts struct {
	byKey   map[factKey]int
	list    []store.Fact
	implied []store.Fact // opens that clicks imply
}

type factKey struct {
	lead      int64
	kind, key string
}

func (f *facts) add(fact store.Fact) {
	if fact.Key == "" {
		return
	}
	if f.byKey == nil {
		f.byKey = map[factKey]int{}
	}
	k := factKey{fact.LeadID, fact.Kind, fact.Key}
	i, ok := f.byKey[k]
	if !ok {
		f.byKey[k] = len(f.list)
		fact.Count = 1
		f.list = append(f.list, fact)
		return
	}
	g := &f.list[i]
	g.Count++
	if fact.FirstAt.Before(g.FirstAt) {
		g.FirstAt = fact.FirstAt
	}
	if fact.LastAt.After(g.LastAt) {
		g.LastAt = fact.LastAt
	}
}

// write upserts the facts, then the implied opens not among them.
func (f *facts) write(ctx context.Context, tx *store.Tx) error {
	if err := tx.UpsertFacts(ctx, f.list); err != nil {
		return err
	}
	var implied []store.Fact
	for _, o := range f.implied {
		if _, ok := f.byKey[factKey{o.LeadID, "open", o.Key}]; !ok && o.Key != "" {
			implied = append(implied, o)
		}
	}
	return tx.ImplyOpens(ctx, implied)
}
