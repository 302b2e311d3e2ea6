package optin

import (
	"context"
	"sync"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// Most signups are the first of their address. Such a signup needs no
// decision under a lock (a new lead's mail is always due), so its work is
// done before the transaction and written in one statement: its caller
// takes the lead's id from a stock reserved ahead and composes its mail for
// that id, and the writer has Postgres insert each lead of the batch with
// its ledger entry, mail and token, all or nothing, skipping every address
// that has a lead by then.
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

// composeFirst makes the signup as its address's first, in the caller's
// goroutine before it is queued: its lead's id is taken from the stock, and
// its mail composed for that id. The writer is one goroutine, and a batch
// it has to compose waits for that before Postgres sees it; composed by
// the callers, the next batch is ready while the previous one commits.
func (w *signupWriter) composeFirst(ctx context.Context, signup lead.Signup, ev lead.Evidence) (*store.FirstSignup, error) {
	ids, err := w.ids.take(ctx, w.s.store, 1)
	if err != nil {
		return nil, err
	}
	l := &store.LeadRow{Lead: lead.Lead{ID: ids[0], Email: signup.Email, Status: lead.StatusPending}}
	rec, err := w.s.signupRecord(l, signup.Data(), lead.EventSignup, ev, true)
	if err != nil {
		return nil, err
	}
	return &store.FirstSignup{ID: ids[0], Lead: store.NewLead{Signup: signup, At: ev.At, Mailed: true}, Record: rec}, nil
}

// writeFirst writes, in one statement, the signups of the batch whose
// address has no lead, and returns them (done) and the others (rest). Up to
// the sender's room, their mails are written leased to it and handed over
// as the statement commits. An error means nothing was written.
func (w *signupWriter) writeFirst(ctx context.Context, batch []*pendingSignup) (done, rest []*pendingSignup, err error) {
	fs := make([]store.FirstSignup, len(batch))
	for i, p := range batch {
		fs[i] = *p.first
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
