package engage

import (
	"context"
	"net/http"
	"net/netip"
	"slices"

	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// judged is the verdict on a batch's opens and clicks: their rows, and the
// clicks recorded before that a burst or the honeypot re-marks.
type judged struct {
	rows    []store.Hit
	remarks map[int64]string // click id → the reason
	before  map[int64]store.RecentClick
}

// judge gives the batch's opens and clicks their verdicts in order, each
// click seeing the clicks of its mail recorded shortly before and those
// earlier in the batch. A click earlier in the batch that a burst re-marks
// is written as a scanner's at once.
func (s *Service) judge(ps []*pending) judged {
	j := judged{rows: make([]store.Hit, len(ps)), remarks: map[int64]string{}, before: map[int64]store.RecentClick{}}
	recent := map[int64][]tracking.Click{} // by mail
	inBatch := map[int64][]int{}           // a mail's clicks earlier in the batch, by index
	var ips prefixText
	for i, p := range ps {
		h := tracking.Hit{Kind: p.ref.Kind, Link: p.ref.Link, Method: p.req.Method, Header: p.header(), IP: p.req.IP, At: p.req.At}
		m := p.ref.Message
		if p.ref.Kind != tracking.KindOpen {
			if p.msg.SentAt != nil {
				h.Delivered = *p.msg.SentAt
			}
			if _, ok := recent[m]; !ok {
				recent[m] = []tracking.Click{}
				for _, r := range p.msg.Recent {
					j.before[r.ID] = r
					recent[m] = append(recent[m], tracking.Click{ID: r.ID, Link: r.Link, Honeypot: r.Honeypot, At: r.At, Verdict: tracking.Verdict(r.Verdict)})
				}
			}
			h.Recent = slices.Clone(recent[m])
			for _, k := range inBatch[m] {
				h.Recent = append(h.Recent, tracking.Click{ID: -int64(k + 1), Link: ps[k].ref.Link,
					Honeypot: ps[k].ref.Kind == tracking.KindHoneypot, At: j.rows[k].At, Verdict: tracking.Verdict(j.rows[k].Verdict)})
			}
		}
		jd := s.cfg.Judge.Decide(h)
		why := "one of a burst of clicks found later to be a scanner's: " + jd.Reason
		for _, id := range jd.Remark {
			if id < 0 {
				j.rows[-id-1].Verdict, j.rows[-id-1].Reason = string(tracking.Scanner), why
				continue
			}
			j.remarks[id] = why
			for c := range recent[m] {
				if recent[m][c].ID == id {
					recent[m][c].Verdict = tracking.Scanner
				}
			}
		}
		j.rows[i] = s.hitRow(p, jd, &ips)
		if p.ref.Kind != tracking.KindOpen {
			inBatch[m] = append(inBatch[m], i)
		}
	}
	return j
}

// hitRow is the events row of an open or click and its verdict.
func (s *Service) hitRow(p *pending, jd tracking.Judgement, ips *prefixText) store.Hit {
	r := store.Hit{MessageID: p.ref.Message, Link: -1, At: p.req.At,
		Verdict: string(jd.Verdict), Reason: jd.Reason, UserAgent: p.req.UserAgent,
		IPPrefix: ips.of(p.req.IP)}
	switch p.ref.Kind {
	case tracking.KindOpen:
		r.Type, r.Source = "open", "pixel"
	case tracking.KindClick:
		r.Type, r.Source, r.Link = "click", "click", p.ref.Link
		if p.msg != nil { // a quick click's URL is the statement's to look up
			l, _ := p.msg.Link(p.ref.Link) // resolved before the hit was queued
			r.URL = l.URL
		}
	case tracking.KindHoneypot:
		r.Type, r.Source = "honeypot", "click"
	}
	return r
}

// prefixText writes the anonymised prefixes of a batch's addresses,
// keeping the last: the hits of a batch often come from one network (a
// proxy's, a scanner's), and each text is otherwise a string per hit.
type prefixText struct {
	last netip.Prefix
	text string
}

// of is ip's anonymised prefix as the events row holds it, "" for none.
func (t *prefixText) of(ip netip.Addr) string {
	pre := tracking.Anonymise(ip)
	if !pre.IsValid() {
		return ""
	}
	if pre != t.last || t.text == "" {
		t.last, t.text = pre, pre.String()
	}
	return t.text
}

// header is what the verdict reads of a request: the user agent, the
// purpose and the few other headers that tell a prefetch or a person's
// click. Usually those are the request's own headers, which are then read
// as they are; a copy is made only where the Request's fields say
// otherwise (a user agent cleaned, a purpose given without headers).
func header(r Request) http.Header {
	if r.Header != nil && r.Header.Get("User-Agent") == r.UserAgent && Purpose(r.Header) == r.Purpose {
		return r.Header
	}
	h := make(http.Header, 6)
	for _, k := range verdictHeaders {
		if vs := r.Header.Values(k); len(vs) > 0 {
			h[k] = vs
		}
	}
	// One array holds both values: a slice each, capped so that an append
	// copies, costs an allocation per hit fewer.
	vs := [2]string{r.UserAgent, r.Purpose}
	all := vs[:]
	h["User-Agent"] = all[0:1:1]
	if r.Purpose != "" {
		h["Sec-Purpose"] = all[1:2:2]
	}
	return h
}

// Purpose is the purpose a request's headers give, what Request.Purpose
// holds: Sec-Purpose, else Purpose.
func Purpose(h http.Header) string {
	if p := h.Get("Sec-Purpose"); p != "" {
		return p
	}
	return h.Get("Purpose")
}

// header is what the verdict reads of the request, made once.
func (p *pending) header() http.Header {
	if p.hdr == nil {
		p.hdr = header(p.req)
	}
	return p.hdr
}

var verdictHeaders = []string{"Purpose", "X-Purpose", "X-Moz", "Sec-Fetch-User"}

// remark marks recorded clicks as a scanner's and takes back the facts
// those that counted had added.
func (s *Service) remark(ctx context.Context, tx *store.Tx, j judged) error {
	if len(j.remarks) == 0 {
		return nil
	}
	byReason := map[string][]int64{}
	var back []store.Fact
	for id, why := range j.remarks {
		byReason[why] = append(byReason[why], id)
		r := j.before[id]
		if tracking.Verdict(r.Verdict).Counts() {
			back = append(back, store.Fact{LeadID: r.LeadID, Kind: store.FactClick, Key: r.StepKey, URL: r.URL, Count: 1})
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
