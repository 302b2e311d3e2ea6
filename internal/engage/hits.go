package engage

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// writeHits judges the batch's opens and clicks in order, each seeing the
// clicks of its mail recorded shortly before and those earlier in the
// batch, writes them, re-marks the earlier clicks a burst or the honeypot
// shows to be a scanner's (taking back the facts they counted), and
// upserts the facts of the counted ones.
func (s *Service) writeHits(ctx context.Context, tx *store.Tx, ps []*pending) (int, error) {
	recent, err := s.recentClicks(ctx, tx, ps)
	if err != nil {
		return 0, err
	}
	rows := make([]store.Hit, len(ps))
	inBatch := map[int64][]int{} // a mail's clicks earlier in the batch, by index
	remarks := map[int64]string{}
	for i, p := range ps {
		h := tracking.Hit{Kind: p.ref.Kind, Link: p.ref.Link, Method: p.req.Method, Header: header(p.req), IP: p.req.IP, At: p.req.At}
		if p.msg.SentAt != nil {
			h.Delivered = *p.msg.SentAt
		}
		m := p.ref.Message
		if p.ref.Kind != tracking.KindOpen {
			h.Recent = slices.Clone(recent.clicks[m])
			for _, j := range inBatch[m] {
				h.Recent = append(h.Recent, tracking.Click{ID: -int64(j + 1), Link: ps[j].ref.Link,
					Honeypot: ps[j].ref.Kind == tracking.KindHoneypot, At: rows[j].At, Verdict: tracking.Verdict(rows[j].Verdict)})
			}
		}
		jd := s.cfg.Judge.Decide(h)
		why := "one of a burst of clicks found later to be a scanner's: " + jd.Reason
		for _, id := range jd.Remark {
			if id < 0 {
				rows[-id-1].Verdict, rows[-id-1].Reason = string(tracking.Scanner), why
				continue
			}
			remarks[id] = why
			recent.mark(m, id)
		}
		rows[i] = s.hitRow(p, jd)
		if p.ref.Kind != tracking.KindOpen {
			inBatch[m] = append(inBatch[m], i)
		}
	}
	ids, err := tx.InsertHits(ctx, rows, s.cfg.Tracking == "all")
	if err != nil {
		return 0, err
	}
	if err := s.remark(ctx, tx, recent, remarks); err != nil {
		return 0, err
	}
	var f facts
	for i, r := range rows {
		if _, ok := ids[i]; !ok || !tracking.Verdict(r.Verdict).Counts() {
			continue
		}
		switch r.Type {
		case "open":
			f.add(store.Fact{LeadID: r.LeadID, Kind: "open", Key: r.StepKey, FirstAt: r.At, LastAt: r.At})
		case "click":
			f.add(store.Fact{LeadID: r.LeadID, Kind: "click", Key: r.StepKey, FirstAt: r.At, LastAt: r.At})
			f.add(store.Fact{LeadID: r.LeadID, Kind: "url", Key: r.URL, FirstAt: r.At, LastAt: r.At})
			f.implied = append(f.implied, store.Fact{LeadID: r.LeadID, Kind: "open", Key: r.StepKey, FirstAt: r.At, LastAt: r.At})
		}
	}
	return len(ids), f.write(ctx, tx)
}

// hitRow is the events row of an open or click and its verdict.
func (s *Service) hitRow(p *pending, jd tracking.Judgement) store.Hit {
	r := store.Hit{LeadID: p.msg.LeadID, StepKey: p.msg.StepKey, At: p.req.At, MessageID: p.ref.Message, Link: -1,
		Verdict: string(jd.Verdict), Reason: jd.Reason, UserAgent: p.req.UserAgent}
	if pre := tracking.Anonymise(p.req.IP); pre.IsValid() {
		r.IPPrefix = pre.String()
	}
	switch p.ref.Kind {
	case tracking.KindOpen:
		r.Type, r.Source = "open", "pixel"
	case tracking.KindClick:
		r.Type, r.Source, r.Link, r.URL = "click", "click", p.ref.Link, p.msg.Links[p.ref.Link].URL
	case tracking.KindHoneypot:
		r.Type, r.Source = "honeypot", "click"
	}
	return r
}

// header is what the verdict reads of a request.
func header(r Request) http.Header {
	h := http.Header{}
	for k, vs := range r.Header {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	h.Set("User-Agent", r.UserAgent)
	if r.Purpose != "" {
		h.Set("Sec-Purpose", r.Purpose)
	}
	return h
}

// recent are the clicks of the batch's mails recorded shortly before.
type recent struct {
	clicks map[int64][]tracking.Click
	rows   map[int64]store.RecentClick
}

// recentClicks reads, locked, the clicks of the batch's mails from a few
// burst windows before its first click on.
func (s *Service) recentClicks(ctx context.Context, tx *store.Tx, ps []*pending) (recent, error) {
	rc := recent{clicks: map[int64][]tracking.Click{}, rows: map[int64]store.RecentClick{}}
	var msgs []int64
	var since time.Time
	for _, p := range ps {
		if p.ref.Kind == tracking.KindOpen {
			continue
		}
		msgs = append(msgs, p.ref.Message)
		if since.IsZero() || p.req.At.Before(since) {
			since = p.req.At
		}
	}
	if len(msgs) == 0 {
		return rc, nil
	}
	slices.Sort(msgs)
	w := s.cfg.Judge.BurstWindow
	if w == 0 {
		w = tracking.DefaultBurstWindow
	}
	rows, err := tx.RecentClicks(ctx, slices.Compact(msgs), since.Add(-4*w))
	if err != nil {
		return rc, err
	}
	for _, r := range rows {
		rc.rows[r.ID] = r
		rc.clicks[r.MessageID] = append(rc.clicks[r.MessageID],
			tracking.Click{ID: r.ID, Link: r.Link, Honeypot: r.Honeypot, At: r.At, Verdict: tracking.Verdict(r.Verdict)})
	}
	return rc, nil
}

// mark notes that a recorded click is a scanner's now, so that a later
// click of the batch does not re-mark it again.
func (rc recent) mark(msg, id int64) {
	for i := range rc.clicks[msg] {
		if rc.clicks[msg][i].ID == id {
			rc.clicks[msg][i].Verdict = tracking.Scanner
		}
	}
}

// remark marks recorded clicks as a scanner's and takes back the facts
// those that counted had added.
func (s *Service) remark(ctx context.Context, tx *store.Tx, rc recent, remarks map[int64]string) error {
	if len(remarks) == 0 {
		return nil
	}
	byReason := map[string][]int64{}
	var back []store.Fact
	for id, why := range remarks {
		byReason[why] = append(byReason[why], id)
		r := rc.rows[id]
		if tracking.Verdict(r.Verdict).Counts() {
			back = append(back, store.Fact{LeadID: r.LeadID, Kind: "click", Key: r.StepKey, Count: 1},
				store.Fact{LeadID: r.LeadID, Kind: "url", Key: r.URL, Count: 1})
		}
	}
	for why, ids := range byReason {
		slices.Sort(ids)
		if err := tx.RemarkClicks(ctx, ids, why); err != nil {
			return err
		}
	}
	return tx.RetractFacts(ctx, back)
}
