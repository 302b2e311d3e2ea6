package optin

import (
	"context"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// Most signups are the first of their address. Such a signup needs no
// decision under a lock (a new lead's mail is always due), so the writer
// does its work before the transaction and writes it in one statement: it
// takes the leads' ids from a stock reserved ahead, composes each mail for
// its id, and has Postgres insert each lead with its ledger entry, mail and
// token, all or nothing, skipping every address that has a lead by then.
// Those signups are repeats; they are written after, as before, with their
// mails composed again for their real leads.

// idBlock is how many lead ids one round trip reserves.
const idBlock = 2 * maxBatch

// leadIDs is the writers' stock of reserved lead ids.
type leadIDs struct {
	mu  sync.Mutex
	ids []int64
}

// take returns n reserved ids, reserving more when the stock is short.
func (l *leadIDs) take(ctx context.Context, st Store, n int) ([]int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ids) < n {
		more, err := st.ReserveLeadIDs(ctx, max(n-len(l.ids), idBlock))
		if err != nil {
			return nil, err
		}
		l.ids = append(l.ids, more...)
	}
	ids := l.ids[:n:n]
	l.ids = l.ids[n:]
	return ids, nil
}

// writeFirst writes, in one statement, the signups of the batch whose
// address has no lead, and returns them (done) and the others (rest). Up to
// the sender's room, their mails are written leased to it and handed over
// as the statement commits. An error means nothing was written.
func (w *signupWriter) writeFirst(ctx context.Context, batch []*pendingSignup) (done, rest []*pendingSignup, err error) {
	ids, err := w.ids.take(ctx, w.s.store, len(batch))
	if err != nil {
		return nil, nil, err
	}
	fs := make([]store.FirstSignup, len(batch))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, p := range batch {
		g.Go(func() (err error) {
			l := &store.LeadRow{Lead: lead.Lead{ID: ids[i], Email: p.signup.Email, Status: lead.StatusPending}}
			fs[i].ID, fs[i].Lead = ids[i], store.NewLead{Signup: p.signup, At: p.ev.At, Mailed: true}
			fs[i].Record, err = w.s.signupRecord(l, p.signup.Data(), lead.EventSignup, p.ev, true)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	room := w.s.reserve(ctx, len(batch))
	for i := range min(room.N(), len(fs)) {
		fs[i].Record.Mail.LeaseUntil = room.Until()
	}
	var written map[string]int64
	for range batchRetries {
		written, err = w.s.store.InsertFirstSignups(ctx, fs)
		if !store.Retryable(err) {
			break
		}
	}
	if err != nil {
		room.Cancel()
		return nil, nil, err
	}
	var handed []store.Claimed
	queued := false
	for i, p := range batch {
		m := fs[i].Record.Mail
		id, ok := written[m.MessageID]
		if !ok {
			rest = append(rest, p)
			continue
		}
		done = append(done, p)
		if m.LeaseUntil.IsZero() {
			queued = true
			continue
		}
		handed = append(handed, store.Claimed{ID: id, Kind: m.Kind, LeadID: m.LeadID, From: m.From, To: m.To, Raw: m.Raw, Attempts: 1})
	}
	room.Hand(handed)
	if queued && w.s.opts.Sender != nil {
		// Mail beyond the room is queued for claiming: wake the sender.
		w.s.opts.Sender.Wake()
	}
	return done, rest, nil
}
