package engage

import (
	"cmp"
	"context"
	"time"

	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// The common click is the only click of its mail in a while, long after
// delivery. Such a click is judged before its mail is read, as if it had
// neither recent clicks nor a delivery time, and written in the statement
// that looks its mail up: the statement writes it only where the mail
// shows that judgement to hold (no click of the mail in the burst window's
// reach, delivered before the scan window), so the click costs one
// statement instead of a read and a write. Any other is deferred, and
// writeJudged reads its mail and judges it again. A verdict that does not
// depend on the mail (prefetch, a scanner's network, Apple's or a proxy's
// agent) stands as it is.

// writeQuick writes the batch's opens and quick clicks in one statement,
// answers them, and returns how many it wrote and the pendings still to be
// written: API events, honeypots, clicks only followed (tracking off),
// clicks of a mail clicked twice in the batch, and deferred clicks.
func (s *Service) writeQuick(ctx context.Context, batch []*pending) (int, []*pending) {
	clicks := map[int64]int{}
	for _, p := range batch {
		if m := p.clicked(); m != 0 {
			clicks[m]++
		}
	}
	quick, rest := make([]*pending, 0, len(batch)), []*pending(nil)
	rows := make([]store.Hit, 0, len(batch))
	var since time.Time
	var ips prefixText
	for _, p := range batch {
		switch {
		case p.events == nil && p.ref.Kind == tracking.KindOpen:
			rows = append(rows, s.hitRow(p, s.cfg.Judge.Decide(s.hit(p)), &ips))
		case p.ref.Kind == tracking.KindClick && p.events == nil && !p.skip && clicks[p.ref.Message] == 1:
			jd := s.cfg.Judge.Decide(s.hit(p))
			r := s.hitRow(p, jd, &ips)
			r.Quick, r.Quiet = true, jd.Verdict == tracking.Human
			rows = append(rows, r)
			if since.IsZero() || p.req.At.Before(since) {
				since = p.req.At
			}
		default:
			rest = append(rest, p)
			continue
		}
		quick = append(quick, p)
	}
	if len(quick) == 0 {
		return 0, batch
	}
	var res []store.HitResult
	var err error
	o := s.hitOptions(since)
	o.KnownSets = s.cache.knownSets()
	for range batchRetries {
		if res, err = s.st.InsertHits(ctx, rows, o); !store.Retryable(err) {
			break
		}
	}
	if err != nil {
		s.cfg.Log.Warn("engage: events not recorded", "events", len(quick), "err", err)
		finish(quick, err)
		return 0, rest
	}
	n := 0
	for i, p := range quick {
		r := res[i]
		switch {
		case r.Deferred:
			rest = append(rest, p)
			continue
		case !r.Known:
			p.Finish(ErrUnknown)
			continue
		case r.LeadID != 0: // a click's, with its mail's lead and link
			s.cache.put(p.ref.Message, r.LeadID, r.LinkSet, r.Links)
			var ok bool
			if p.target, ok = s.target(r.LeadID, r.URL); !ok {
				p.Finish(ErrUnknown) // the statement knew the link; a URL it could not parse is never a redirect
				continue
			}
		}
		if r.ID != 0 {
			n++
		}
		p.Finish(nil)
	}
	return n, rest
}

// hit is what the verdict reads of an open or click, without its mail.
func (s *Service) hit(p *pending) tracking.Hit {
	return tracking.Hit{Kind: p.ref.Kind, Link: p.ref.Link, Method: p.req.Method, Header: p.header(), IP: p.req.IP, At: p.req.At}
}

// hitOptions are InsertHits's settings for a batch whose earliest quick
// click was at since: a quiet quick click is deferred if its mail has
// clicks that its burst could include.
func (s *Service) hitOptions(since time.Time) store.HitOptions {
	return store.HitOptions{
		TrackAll:   s.trackAll(),
		Since:      since.Add(-4 * s.burstWindow()),
		ScanWindow: cmp.Or(s.cfg.Judge.ScanWindow, tracking.DefaultScanWindow),
	}
}
