package optin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nurture/nurture/internal/groupcommit"
	"github.com/nurture/nurture/internal/handover"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// Signups are written by group commit: concurrent Subscribe calls queue
// their checked signup, and one writer takes everything waiting (up to
// maxBatch) and writes it in one round: the signups of addresses that have
// no lead, the common case, in one statement (see writeFirst), then the
// others, repeats, in one transaction with one statement per step. There is
// no fixed wait: at idle a batch is one signup and goes at once; under load
// the next batch forms while the previous one commits, and one commit then
// serves many signups.
//
// Everything a repeat writes is decided under the row locks exactly as for a
// single signup; a first signup needs no decision (a new lead's mail is
// due), and whatever another transaction inserted first makes it a repeat.
// An address appears at most once per batch (a second signup of it waits
// for the next), so the one-mail-per-interval rule and the ledger stay
// exact. Each of the two writes fails or succeeds whole: a failed one fails
// every signup in it and writes nothing of them. Input is checked before a
// signup is queued, so one person's bad input never fails another's signup.

const (
	maxBatch = 128
	// maxWriters is how many batches are written at once. Two (one composing
	// while the other waits on Postgres) measured no faster than one on two
	// cores, on two machines: 1,536–1,635 against 1,626–1,635 signups/s on
	// one, 3,242–3,524 against 3,511–3,772 on a faster one. With first
	// signups in one statement, two again measured no faster (474–586
	// against 592–615 signups/s on a loaded machine), and took 10 % more
	// CPU per signup, their batches being half as large; so did a second
	// writer started only once 8 signups wait (ratios to the bare handler
	// 0.23–0.26 against 0.19–0.27, with 10–20 % more CPU in Postgres).
	// With first signups composed by their callers, the writer is busy
	// waiting on Postgres nearly all the time; two writers still measured
	// no better on a loaded machine (ratios 0.09–0.29 against 0.22–0.35).
	maxWriters   = 1
	batchTimeout = 30 * time.Second
	batchRetries = 3 // attempts of a batch that hit a deadlock or serialization failure
)

// A pendingSignup is queued, then taken by the writer, or abandoned by its
// caller before that.
type pendingSignup struct {
	groupcommit.Entry
	signup lead.Signup
	ev     lead.Evidence      // ev.At is the signup's time
	first  *store.FirstSignup // the signup as its address's first, composed by its caller
}

// signupWriter queues signups for their batch. Batches written at once
// never share an address, nor does one batch hold an address twice: they
// cannot deadlock, and a second signup of an address is decided after the
// first has committed.
type signupWriter struct {
	s *Service
	q *groupcommit.Queue[*pendingSignup, string]

	ids leadIDs

	// for tests: batches, signups written, and how many of them took
	// each path (firsts whole in one statement, repeats after)
	batches, written, firsts, repeats atomic.Int64
}

func (w *signupWriter) init(s *Service) {
	w.s = s
	w.q = groupcommit.New(groupcommit.Config[*pendingSignup, string]{
		MaxBatch: maxBatch, MaxWriters: maxWriters, Timeout: batchTimeout,
		Key:         func(p *pendingSignup) (string, bool) { return p.signup.Email, true },
		OnePerBatch: true,
		Write: func(ctx context.Context, batch []*pendingSignup) {
			w.writeBatch(ctx, batch)
			w.batches.Add(1)
		},
	})
}

// write queues a signup and waits until its batch is committed or failed.
// A caller that gives up before its signup was taken leaves nothing
// written; one whose signup was taken gets the batch's outcome.
func (w *signupWriter) write(ctx context.Context, signup lead.Signup, ev lead.Evidence) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	first, err := w.composeFirst(ctx, signup, ev)
	if err != nil {
		return err
	}
	return w.q.Do(ctx, &pendingSignup{signup: signup, ev: ev, first: first})
}

// Wait returns once no batch is being written: after the HTTP server has
// shut down, every accepted signup is then committed or failed.
func (s *Service) Wait() { s.signups.q.Wait() }

// finish gives the signups their outcome.
func (w *signupWriter) finish(ps []*pendingSignup, err error) {
	if err == nil {
		w.written.Add(int64(len(ps)))
	}
	for _, p := range ps {
		p.Finish(err)
	}
}

// writeBatch writes the batch: first, in one statement, every signup whose
// address has no lead (see writeFirst), then the others, repeats, in one
// transaction as before (writeRepeats). Each signup's outcome is that of
// the transaction that wrote it.
func (w *signupWriter) writeBatch(ctx context.Context, batch []*pendingSignup) {
	done, rest, err := w.writeFirst(ctx, batch)
	if err != nil {
		w.finish(batch, err)
		return
	}
	w.firsts.Add(int64(len(done)))
	w.finish(done, nil)
	if len(rest) > 0 {
		w.repeats.Add(int64(len(rest)))
		w.finish(rest, w.writeRepeats(ctx, rest))
	}
}

// writeRepeats writes the batch in one transaction, again if it hit a
// deadlock (another node's batch locking the same leads in another order,
// say). The confirmation mails go to the sender as the batch commits, as
// many as it has room for now.
func (w *signupWriter) writeRepeats(ctx context.Context, batch []*pendingSignup) error {
	room := w.s.reserve(ctx, len(batch))
	var (
		handed []store.Claimed
		err    error
	)
	for range batchRetries {
		err = w.s.withTx(ctx, func(tx *store.Tx) error {
			handed, err = w.s.writeSignups(ctx, tx, batch, room)
			return err
		})
		if !store.Retryable(err) {
			break
		}
	}
	if err != nil {
		room.Cancel()
		return err
	}
	room.Hand(handed)
	return nil
}

// writeSignups is the batch's transaction: lock the leads that exist, insert
// the new ones, decide under the locks whether each signup mails, record the
// mails on the repeats' leads, then write the mail, ledger entries and
// tokens. Up to room.N() mails are written leased to the sender; it returns
// them, to be handed over after commit.
func (s *Service) writeSignups(ctx context.Context, tx *store.Tx, batch []*pendingSignup, room handover.Room) ([]store.Claimed, error) {
	leads, inserted, err := lockOrInsertLeads(ctx, tx, batch)
	if err != nil {
		return nil, err
	}
	mail, err := s.decideMails(ctx, tx, batch, leads, inserted)
	if err != nil {
		return nil, err
	}
	// Composing the mails is most of the batch's own work, and the writer
	// is one goroutine: spread it over the cores.
	recs := make([]store.Signup, len(batch))
	err = spread(len(batch), func(i int) (err error) {
		p := batch[i]
		recs[i], err = s.signupRecord(leads[p.signup.Email], p.signup.Data(), lead.EventSignup, p.ev, mail[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	return recordLeased(ctx, tx, recs, room)
}

// lockOrInsertLeads locks the batch's leads that exist, in address order,
// and inserts the others; inserted names the addresses whose lead this
// transaction made.
func lockOrInsertLeads(ctx context.Context, tx *store.Tx, batch []*pendingSignup) (leads map[string]*store.LeadRow, inserted map[string]bool, err error) {
	emails := make([]string, len(batch))
	for i, p := range batch {
		emails[i] = p.signup.Email
	}
	slices.Sort(emails)
	leads = make(map[string]*store.LeadRow, len(batch))
	lock := func(emails []string) error {
		rows, err := tx.LeadsForUpdate(ctx, emails)
		for i := range rows {
			leads[rows[i].Email] = &rows[i]
		}
		return err
	}
	if err := lock(emails); err != nil {
		return nil, nil, err
	}

	var fresh []store.NewLead
	for _, p := range batch {
		if leads[p.signup.Email] == nil {
			fresh = append(fresh, store.NewLead{Signup: p.signup, At: p.ev.At, Mailed: true})
		}
	}
	ids, err := tx.InsertLeads(ctx, fresh)
	if err != nil {
		return nil, nil, err
	}
	inserted = make(map[string]bool, len(ids))
	var lost []string
	for _, f := range fresh {
		id, ok := ids[f.Signup.Email]
		if !ok {
			// A concurrent signup of the address won the insert (ON
			// CONFLICT DO NOTHING); lock its row and carry on as a repeat.
			lost = append(lost, f.Signup.Email)
			continue
		}
		inserted[f.Signup.Email] = true
		leads[f.Signup.Email] = &store.LeadRow{Lead: lead.Lead{ID: id, Email: f.Signup.Email, Status: lead.StatusPending}}
	}
	if len(lost) > 0 {
		if err := lock(lost); err != nil {
			return nil, nil, err
		}
	}
	return leads, inserted, nil
}

// decideMails says, under the leads' locks, which signups send a
// confirmation mail, and records it on the repeats' leads. A repeated
// signup leaves its lead's data alone, whatever the lead's status: what it
// says belongs to it and travels with the link it sends, if it sends one,
// until that link is confirmed. Its lead only records when the mail went.
func (s *Service) decideMails(ctx context.Context, tx *store.Tx, batch []*pendingSignup, leads map[string]*store.LeadRow, inserted map[string]bool) ([]bool, error) {
	mail := make([]bool, len(batch))
	var mailed []store.Mailed
	for i, p := range batch {
		l := leads[p.signup.Email]
		if l == nil {
			return nil, errors.New("optin: signup: lead vanished under the batch")
		}
		if inserted[l.Email] {
			mail[i] = true
			continue
		}
		if mail[i] = s.mailDue(l, p.ev.At); mail[i] {
			mailed = append(mailed, store.Mailed{ID: l.ID, At: p.ev.At})
		}
	}
	return mail, tx.MarkConfirmMailed(ctx, mailed)
}

// recordLeased writes the signups' mails, ledger entries and tokens, the
// first room.N() mails leased to the sender, and returns those to hand
// over after commit.
func recordLeased(ctx context.Context, tx *store.Tx, recs []store.Signup, room handover.Room) ([]store.Claimed, error) {
	var leased []*store.NewMessage
	for i := range recs {
		if m := recs[i].Mail; m != nil && len(leased) < room.N() {
			m.LeaseUntil = room.Until()
			leased = append(leased, m)
		}
	}
	mailIDs, err := tx.RecordSignups(ctx, recs)
	if err != nil {
		return nil, err
	}
	handed := make([]store.Claimed, len(leased))
	for i, m := range leased {
		handed[i] = store.Claimed{ID: mailIDs[m.MessageID], Kind: m.Kind, LeadID: m.LeadID, From: m.From, To: m.To, Raw: m.Raw, Attempts: 1}
	}
	return handed, nil
}

// cleanText makes request evidence storable: valid UTF-8 without NUL, which
// Postgres refuses in text. Headers may carry any bytes, and a truncated
// one may end mid-character; stored as sent, one such request would fail
// every signup of its batch.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}
