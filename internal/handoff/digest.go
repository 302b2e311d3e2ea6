package handoff

import (
	"context"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// digestGrace is how far back a starting node looks for a digest slot it
// may have missed while it was down; the slot's row keeps it from going
// out twice.
const digestGrace = time.Hour

// digestEntry is one handoff in an owner's digest.
type digestEntry struct {
	Name, Email             string
	Score, Fit, Engagement  int
	Status, Since           string
	Accept, Reject, Qualify string
}

// digestMail is one owner's digest.
type digestMail struct {
	Owner          string
	Open, Accepted []digestEntry
	Count          int
	Expires, Slot  string
}

// DigestDue sends the digest when scoring.yaml's handoff.digest schedule
// has fallen due since the last one, and returns how many owners it
// mailed. Call it often (every minute); one node sends each slot, under
// an advisory lock and with the slot's row written with the mails. Slots
// missed while no node ran are skipped but for the latest.
func (s *Service) DigestDue(ctx context.Context) (int, error) {
	hr := s.handoffRules()
	if hr == nil || hr.Digest == nil {
		return 0, nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	since := s.since
	last, err := s.store.LastDigestSlot(ctx)
	if err != nil {
		return 0, err
	}
	if last != nil && last.After(since) {
		since = *last
	}
	slot := hr.Digest.Next(since)
	if slot.IsZero() || slot.After(now) {
		return 0, nil
	}
	for range 100000 {
		next := hr.Digest.Next(slot)
		if next.IsZero() || next.After(now) {
			break
		}
		slot = next
	}
	var sent int
	_, err = s.store.Singleton(ctx, store.LockDigest, func(ctx context.Context) error {
		var err error
		sent, err = s.sendDigest(ctx, slot, now)
		return err
	})
	return sent, err
}

// sendDigest queues, in one transaction with the slot's row, a mail to
// each owner listing their open and accepted handoffs.
func (s *Service) sendDigest(ctx context.Context, slot, now time.Time) (int, error) {
	var sent int
	err := s.store.WithTx(ctx, func(tx *store.Tx) error {
		var hs []store.HandoffLead
		for _, status := range []string{store.HandoffOpen, store.HandoffAccepted} {
			some, err := tx.Handoffs(ctx, store.HandoffFilter{Status: status, Limit: 100000})
			if err != nil {
				return err
			}
			hs = append(hs, some...)
		}
		byOwner := map[string]*digestMail{}
		var owners []string
		exp := now.Add(s.opts.LinkTTL)
		for _, h := range hs {
			m := byOwner[h.Owner]
			if m == nil {
				m = &digestMail{Owner: h.Owner, Expires: date(exp), Slot: date(slot)}
				byOwner[h.Owner] = m
				owners = append(owners, h.Owner)
			}
			e := digestEntry{
				Name: strings.TrimSpace(h.FirstName + " " + h.LastName), Email: h.Email,
				Score: h.Score, Fit: h.Fit, Engagement: h.Engagement, Status: h.Status, Since: date(h.CreatedAt),
				Accept: s.linkURL(Accept, h.ID, exp), Reject: s.linkURL(Reject, h.ID, exp), Qualify: s.linkURL(Qualify, h.ID, exp),
			}
			if h.Status == store.HandoffOpen {
				m.Open = append(m.Open, e)
			} else {
				m.Accepted = append(m.Accepted, e)
			}
			m.Count++
		}
		ok, err := tx.ClaimDigestSlot(ctx, slot, len(owners), now)
		if err != nil || !ok {
			return err
		}
		for _, o := range owners {
			raw, mid, err := s.compose(o, "digest", byOwner[o], now)
			if err != nil {
				return err
			}
			if _, err := tx.QueueMessage(ctx, store.NewMessage{Kind: "digest", MessageID: mid, From: s.env, To: o, Raw: raw, RunAt: now}); err != nil {
				return err
			}
		}
		sent = len(owners)
		s.wakeAfter(tx)
		return nil
	})
	if err == nil {
		s.since = slot
		if sent > 0 {
			s.log.Info("handoff: digest sent", "slot", slot, "owners", sent)
		}
	}
	return sent, err
}
