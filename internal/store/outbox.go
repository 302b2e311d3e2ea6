package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/nurture/nurture/internal/lead"
)

// NewMessage is a mail to queue in the outbox.
type NewMessage struct {
	Kind      string // confirmation, step, test, handoff
	LeadID    *int64
	MessageID string
	From      string // envelope sender
	To        string // envelope recipient
	Raw       []byte
	RunAt     time.Time
	// LeaseUntil, when set, writes the mail as claimed until then by the
	// sender it is handed to after commit (see RecordSignups).
	LeaseUntil time.Time
}

// QueueMessage writes a mail to the outbox in the caller's transaction; the
// writer wakes the sender once the transaction commits (see Tx.Queued). A mail with a
// LeaseUntil is written as claimed instead, and wakes no one.
func (t *Tx) QueueMessage(ctx context.Context, m NewMessage) (int64, error) {
	var id int64
	var lease *time.Time
	if !m.LeaseUntil.IsZero() {
		lease = &m.LeaseUntil
	}
	err := t.stmt(t.q.InsertMessage).GetContext(ctx, &id, m.Kind, m.LeadID, m.MessageID, m.From, m.To, m.Raw, m.RunAt, lease, nodeArg(t.node))
	if err != nil {
		return 0, fmt.Errorf("store: queue message: %w", err)
	}
	t.queued = t.queued || lease == nil
	return id, nil
}

// Claimed is a message a sender holds a lease on.
type Claimed struct {
	ID        int64     `db:"id"`
	Kind      string    `db:"kind"`
	LeadID    *int64    `db:"lead_id"`
	MessageID string    `db:"message_id"`
	StepKey   string    `db:"step_key"` // sequence/slug of a step mail
	CreatedAt time.Time `db:"created_at"`
	From      string    `db:"sender"`
	To        string    `db:"recipient"`
	// Raw is nil for a step mail written leased whose sender died before
	// sending it: its bytes were never stored.
	Raw []byte `db:"raw"`
	// Attempts counts the claims of the message, this one included; the
	// sender's hold on it is good only while it is unchanged.
	Attempts   int  `db:"attempts"`
	Refusals   int  `db:"refusals"` // temporary refusals (4xx) before this attempt
	Suppressed bool `db:"suppressed"`
}

// Held is a message a sender holds: its id and the attempt it holds.
type Held struct {
	ID       int64
	Attempts int
}

// ClaimMessages leases up to limit due messages until leaseUntil. Any number
// of senders may claim at once; each message goes to one of them.
//
// The claim must cost what it claims, not what is queued. Before the
// messages table has statistics (a new database, or a burst of queued mail
// that autovacuum has not analysed yet) the planner may scan and sort the
// whole queue on every claim; with sorts off for this transaction it walks
// the partial indexes in order.
//
// held are the messages the caller holds already: they are not claimed
// again, even when their lease has run out. Mail held by a relay node that
// stopped renewing (see Join) is claimed whatever its lease says. The
// claims name this store's node.
func (s *Store) ClaimMessages(ctx context.Context, now, leaseUntil time.Time, limit int, held []int64) ([]Claimed, error) {
	var out []Claimed
	if held == nil {
		held = []int64{} // a nil array would be NULL, and id <> ALL (NULL) excludes every row
	}
	err := s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, `SET LOCAL enable_sort = off`); err != nil {
			return err
		}
		return tx.stmt(s.q.ClaimMessages).SelectContext(ctx, &out, now, leaseUntil, limit, pq.Array(held), nodeArg(s.Node()))
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim messages: %w", err)
	}
	return out, nil
}

// Sent is a message SMTP accepted, with the server's reply.
type Sent struct {
	ID    int64
	Reply string
}

// A Round is what a sender writes in one go: the messages it is about to
// hand to SMTP, those SMTP accepted, and those it gives back unsent.
type Round struct {
	Start   []Held // about to be handed to SMTP
	Sent    []Sent // accepted by SMTP
	Release []Held // never handed to SMTP: queued again, due at once
}

// Len is how many messages the round writes.
func (r Round) Len() int { return len(r.Start) + len(r.Sent) + len(r.Release) }

// Written is what a Round wrote: the ids of its Start the sender still
// holds and may now send, and how many of its Release went back to the
// queue. A message claimed by another sender meanwhile is in neither.
type Written struct {
	May      map[int64]bool
	Released int
}

const (
	actStart = iota
	actSent
	actRelease
)

// Record writes a round in one statement.
func (s *Store) Record(ctx context.Context, now time.Time, r Round) (Written, error) {
	n := r.Len()
	ids, attempts := make([]int64, 0, n), make([]int64, 0, n)
	acts, replies := make([]int64, 0, n), make([]string, 0, n)
	for _, h := range r.Start {
		ids, attempts, acts, replies = append(ids, h.ID), append(attempts, int64(h.Attempts)), append(acts, actStart), append(replies, "")
	}
	for _, m := range r.Sent {
		ids, attempts, acts, replies = append(ids, m.ID), append(attempts, 0), append(acts, actSent), append(replies, m.Reply)
	}
	for _, h := range r.Release {
		ids, attempts, acts, replies = append(ids, h.ID), append(attempts, int64(h.Attempts)), append(acts, actRelease), append(replies, "")
	}
	var rows []struct {
		ID  int64 `db:"id"`
		Act int   `db:"act"`
	}
	// Prepared: the statement calls a function that plans the round's
	// UPDATE once per connection (see start_smtp.sql).
	err := s.q.StartSMTP.SelectContext(ctx, &rows, pq.Array(ids), pq.Array(attempts), now, pq.Array(acts), pq.Array(replies))
	if err != nil {
		return Written{}, fmt.Errorf("store: record sends: %w", err)
	}
	w := Written{May: make(map[int64]bool, len(r.Start))}
	for _, row := range rows {
		switch row.Act {
		case actStart:
			w.May[row.ID] = true
		case actRelease:
			w.Released++
		}
	}
	return w, nil
}

// StartSMTP is Record of a round without releases: it returns the ids of
// start the sender may now send.
func (s *Store) StartSMTP(ctx context.Context, now time.Time, start []Held, sent []Sent) (map[int64]bool, error) {
	w, err := s.Record(ctx, now, Round{Start: start, Sent: sent})
	return w.May, err
}

// RenewLeases extends the leases of the messages a sender still holds.
func (s *Store) RenewLeases(ctx context.Context, held []Held, until time.Time) error {
	if len(held) == 0 {
		return nil
	}
	ids, attempts := make([]int64, len(held)), make([]int64, len(held))
	for i, h := range held {
		ids[i], attempts[i] = h.ID, int64(h.Attempts)
	}
	if _, err := s.planned(s.q.RenewLeases).ExecContext(ctx, pq.Array(ids), pq.Array(attempts), until); err != nil {
		return fmt.Errorf("store: renew leases: %w", err)
	}
	return nil
}

// MarkRetry puts a message back in the queue for another attempt at runAt,
// storing raw as its bytes if none are stored yet. refused says whether
// the attempt was a temporary refusal (4xx) rather than an unreachable
// server; only refusals count towards giving up. uncertain says the
// attempt may have reached the server (its data went out and no reply
// came): the next claim counts it as a repeat.
func (s *Store) MarkRetry(ctx context.Context, id int64, runAt time.Time, reply string, raw []byte, refused, uncertain bool) error {
	refusals := 0
	if refused {
		refusals = 1
	}
	if _, err := s.q.MarkRetry.ExecContext(ctx, id, runAt, reply, raw, refusals, uncertain); err != nil {
		return fmt.Errorf("store: mark retry: %w", err)
	}
	return nil
}

// MarkFailed gives a message up for good.
func (s *Store) MarkFailed(ctx context.Context, id int64, reply string) error {
	if _, err := s.q.MarkFailed.ExecContext(ctx, id, reply); err != nil {
		return fmt.Errorf("store: mark failed: %w", err)
	}
	return nil
}

// Bounce gives a message up and marks its lead bounced: the address goes on
// the suppression list, so nothing more is sent to it.
func (s *Store) Bounce(ctx context.Context, id int64, leadID *int64, reply string, now time.Time) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.stmt(s.q.MarkFailed).ExecContext(ctx, id, reply); err != nil {
			return fmt.Errorf("store: bounce: %w", err)
		}
		if leadID == nil {
			return nil
		}
		var email string
		err := tx.stmt(s.q.BounceLead).GetContext(ctx, &email, *leadID, now)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: bounce lead: %w", err)
		}
		return tx.Suppress(ctx, lead.EmailHash(email), "bounce", now)
	})
}

// NextMessageDue returns when the earliest queued message is due, or nil.
func (s *Store) NextMessageDue(ctx context.Context) (*time.Time, error) {
	var t *time.Time
	if err := s.q.NextMessageDue.GetContext(ctx, &t); err != nil {
		return nil, fmt.Errorf("store: next message due: %w", err)
	}
	return t, nil
}

// OutboxStatus counts messages per status.
type OutboxStatus struct {
	Status  string `db:"status"`
	N       int64  `db:"n"`
	Repeats int64  `db:"repeats"`
}

// OutboxCounts returns how many messages are in each status.
func (s *Store) OutboxCounts(ctx context.Context) ([]OutboxStatus, error) {
	var out []OutboxStatus
	if err := s.q.OutboxCounts.SelectContext(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: outbox counts: %w", err)
	}
	return out, nil
}
