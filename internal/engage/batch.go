package engage

import (
	"cmp"
	"context"
	"time"

	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// writeBatch writes a batch: first its opens and quick clicks (see
// writeQuick), then what is left through writeJudged. Every pending then
// has its outcome, and the scorer is told of what was written.
func (s *Service) writeBatch(ctx context.Context, batch []*pending) {
	n, rest := s.writeQuick(ctx, batch)
	if len(rest) > 0 {
		n += s.writeJudged(ctx, rest)
	}
	if n > 0 {
		s.recorded.Add(int64(n))
		s.batches.Add(1)
		if s.cfg.Recorded != nil {
			s.cfg.Recorded()
		}
	}
}

// writeJudged resolves the batch's clicks, judges its opens and clicks, and
// writes it. Opens and clicks alone are one statement that writes them and
// their lead facts (see store.InsertHits); a batch with API events, or
// with clicks that a burst re-marks, is a transaction. Either is tried
// again if it hit a deadlock (another node's batch locking the same facts
// in another order). Every pending then gets its outcome; it returns how
// many events were written.
func (s *Service) writeJudged(ctx context.Context, batch []*pending) int {
	live, err := s.resolve(ctx, batch)
	if err != nil {
		finish(live, err)
		return 0
	}
	if len(live) == 0 {
		return 0
	}
	var hits, evs []*pending
	for _, p := range live {
		if p.events != nil {
			evs = append(evs, p)
		} else {
			hits = append(hits, p)
		}
	}
	j := s.judge(hits)
	var n int
	for range batchRetries {
		n = 0
		if len(evs) == 0 && len(j.remarks) == 0 {
			var res []store.HitResult
			if res, err = s.st.InsertHits(ctx, j.rows, s.hitOptions(time.Time{})); err == nil {
				n = hitsDone(hits, res)
			}
		} else {
			err = s.st.WithTx(ctx, func(tx *store.Tx) error {
				var err error
				n, err = s.writeTx(ctx, tx, hits, j, evs)
				return err
			})
		}
		if !store.Retryable(err) {
			break
		}
	}
	if err != nil {
		s.cfg.Log.Warn("engage: events not recorded", "events", len(live), "err", err)
		n = 0
	}
	finish(live, err)
	return n
}

func (s *Service) trackAll() bool { return s.cfg.Tracking == "all" }

// finish gives each pending the batch's outcome, or its own error.
func finish(ps []*pending, err error) {
	for _, p := range ps {
		if err == nil {
			p.Finish(p.err)
		} else {
			p.Finish(err)
		}
	}
}

// hitsDone gives each open or click what became of it, and returns how
// many were written.
func hitsDone(hits []*pending, res []store.HitResult) int {
	n := 0
	for i, p := range hits {
		p.err = nil
		switch {
		case !res[i].Known:
			p.err = ErrUnknown
		case res[i].ID != 0:
			n++
		}
	}
	return n
}

// resolve looks up, in one query, the mails of the batch's clicks with
// their recent clicks, and the clicks' targets. It answers at once the
// clicks of unknown mails or links (ErrUnknown) and those only followed
// (tracking off), and returns the rest; an open's mail is the insert's to
// find. On an error it returns the whole batch, to fail.
func (s *Service) resolve(ctx context.Context, batch []*pending) ([]*pending, error) {
	var ids []int64
	var since time.Time
	for _, p := range batch {
		if p.events == nil && p.ref.Kind != tracking.KindOpen {
			ids = append(ids, p.ref.Message)
			if since.IsZero() || p.req.At.Before(since) {
				since = p.req.At
			}
		}
	}
	if len(ids) == 0 {
		return batch, nil
	}
	found, err := s.st.TrackedMessages(ctx, ids, since.Add(-4*s.burstWindow()))
	if err != nil {
		return batch, err
	}
	live := batch[:0:0]
	for _, p := range batch {
		if p.events != nil || p.ref.Kind == tracking.KindOpen {
			live = append(live, p)
			continue
		}
		p.msg = found[p.ref.Message]
		ok := p.msg != nil
		if ok {
			s.cache.put(p.msg.ID, p.msg.LeadID, p.msg.LinkSet, p.msg.Links)
		}
		if ok && p.ref.Kind == tracking.KindClick {
			p.target, ok = s.linkTarget(p.msg.LeadID, p.msg.Links, p.ref.Link)
		}
		switch {
		case !ok:
			p.Finish(ErrUnknown)
		case p.skip:
			p.Finish(nil)
		default:
			live = append(live, p)
		}
	}
	return live, nil
}

func (s *Service) burstWindow() time.Duration {
	return cmp.Or(s.cfg.Judge.BurstWindow, tracking.DefaultBurstWindow)
}

// writeTx writes the batch's opens and clicks, re-marks the earlier clicks
// that a burst or the honeypot showed to be a scanner's, taking back the
// facts they counted, then writes the API events. It returns how many
// events it wrote.
func (s *Service) writeTx(ctx context.Context, tx *store.Tx, hits []*pending, j judged, evs []*pending) (int, error) {
	n := 0
	if len(hits) > 0 {
		res, err := tx.InsertHits(ctx, j.rows, s.hitOptions(time.Time{}))
		if err != nil {
			return 0, err
		}
		n = hitsDone(hits, res)
		if err := s.remark(ctx, tx, j); err != nil {
			return 0, err
		}
	}
	if len(evs) > 0 {
		for _, p := range evs {
			p.err = nil
		}
		k, err := s.writeEvents(ctx, tx, evs)
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}

// facts gathers a batch's lead facts, one per lead, kind, key and URL.
type facts struct {
	byKey map[factKey]int
	list  []store.Fact
}

type factKey struct {
	lead           int64
	kind, key, url string
}

func (f *facts) add(fact store.Fact) {
	if fact.Key == "" {
		return
	}
	if f.byKey == nil {
		f.byKey = map[factKey]int{}
	}
	k := factKey{fact.LeadID, fact.Kind, fact.Key, fact.URL}
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
