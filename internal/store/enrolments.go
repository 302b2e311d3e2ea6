package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/nurture/nurture/internal/lead"
)

// Progress is where an enrolment stands in its sequence, as the database
// holds it.
type Progress struct {
	Sequence   string         `db:"sequence"`
	StepsDone  pq.StringArray `db:"steps_done"`
	LastOrder  int            `db:"last_order"`
	DueAt      time.Time      `db:"due_at"`
	EnrolledAt time.Time      `db:"enrolled_at"`
	LastSentAt *time.Time     `db:"last_sent_at"`
}

// enrolmentRow is an enrolment as the database holds it.
type enrolmentRow struct {
	ID     int64  `db:"id"`
	LeadID int64  `db:"lead_id"`
	State  string `db:"state"`
	Progress
	EndedAt     *time.Time `db:"ended_at"`
	EndedReason string     `db:"ended_reason"`
}

// Enrol enrols a confirmed lead in a sequence, due at due. It reports false
// when the lead is not confirmed, or is enrolled already (at all, unless
// reenroll; at the moment, if reenroll).
func (t *Tx) Enrol(ctx context.Context, leadID int64, sequence string, reenroll bool, due, now time.Time) (int64, bool, error) {
	var id int64
	err := t.stmt(t.q.InsertEnrolment).GetContext(ctx, &id, leadID, sequence, reenroll, due, now)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: enrol: %w", err)
	}
	return id, true, nil
}

// Due is a claimed enrolment with its lead.
type Due struct {
	EnrolmentID int64 `db:"enrolment_id"`
	Progress
	// LastPassedAt is when the last step was sent or skipped.
	LastPassedAt *time.Time `db:"last_passed_at"`
	Suppressed   bool       `db:"suppressed"`
	lead.Lead
}

// ClaimEnrolments locks up to limit enrolments due at now for the rest of
// the transaction; concurrent dispatchers get disjoint batches.
func (t *Tx) ClaimEnrolments(ctx context.Context, now time.Time, limit int) ([]Due, error) {
	var out []Due
	if err := t.stmt(t.q.ClaimEnrolments).SelectContext(ctx, &out, now, limit); err != nil {
		return nil, fmt.Errorf("store: claim enrolments: %w", err)
	}
	return out, nil
}

// Outcome is what became of one claimed enrolment.
type Outcome struct {
	ID        int64
	State     string // lead.EnrolmentActive, …
	StepsDone []string
	LastOrder int
	DueAt     time.Time  // when to look again; kept as is once it ended
	SentAt    *time.Time // a step went out at this time
	PassedAt  *time.Time // a step was sent or skipped at this time
	Reason    string     // why it ended
}

// SaveEnrolments writes the outcomes of a claimed batch in one statement.
func (t *Tx) SaveEnrolments(ctx context.Context, now time.Time, out []Outcome) error {
	if len(out) == 0 {
		return nil
	}
	n := len(out)
	ids, states, done := make([]int64, n), make([]string, n), make([]string, n)
	orders, due := make([]int64, n), make([]string, n)
	sent, passed, reasons := make([]string, n), make([]string, n), make([]string, n)
	for i, o := range out {
		ids[i], states[i], orders[i], reasons[i] = o.ID, o.State, int64(o.LastOrder), o.Reason
		due[i] = o.DueAt.UTC().Format(time.RFC3339Nano)
		done[i] = strings.Join(o.StepsDone, "/")
		if o.SentAt != nil {
			sent[i] = o.SentAt.UTC().Format(time.RFC3339Nano)
		}
		if o.PassedAt != nil {
			passed[i] = o.PassedAt.UTC().Format(time.RFC3339Nano)
		}
	}
	_, err := t.stmt(t.q.SaveEnrolments).ExecContext(ctx, now, pq.Array(ids), pq.Array(states), pq.Array(done),
		pq.Array(orders), pq.Array(due), pq.Array(sent), pq.Array(passed), pq.Array(reasons))
	if err != nil {
		return fmt.Errorf("store: save enrolments: %w", err)
	}
	return nil
}

// StepMessage is a step's mail to queue.
type StepMessage struct {
	// ID is the mail's id, reserved with ReserveMessageIDs, or 0 for a
	// new one.
	ID int64
	// LinkSet is the id of a tracked mail's set of links (see LinkSets),
	// or 0 for an untracked mail.
	LinkSet     int64
	LeadID      int64
	EnrolmentID int64
	StepKey     string // sequence/slug
	MessageID   string
	From, To    string
	Raw         []byte
}

// QueueSteps writes a batch of step mails to the outbox in one statement
// and returns their ids by Message-ID. Without a lease (the zero time) they
// are queued, and the senders are woken when the transaction commits; with
// one they are written as claimed until then, for the sender that will be
// handed them after commit.
func (t *Tx) QueueSteps(ctx context.Context, now time.Time, ms []StepMessage, lease time.Time) (map[string]int64, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	n := len(ms)
	leads, enrols := make([]int64, n), make([]int64, n)
	mids, froms, tos, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	offs, lens := make([]int64, n), make([]int64, n)
	ids, sets := make([]int64, n), make([]int64, n)
	var leaseArg *time.Time
	if !lease.IsZero() {
		leaseArg = &lease
	}
	// Leased mail's bytes are not stored, so they need not travel either.
	size := 0
	if leaseArg == nil {
		for _, m := range ms {
			size += len(m.Raw)
		}
	}
	raw := make([]byte, 0, size)
	for i, m := range ms {
		leads[i], enrols[i], keys[i] = m.LeadID, m.EnrolmentID, m.StepKey
		ids[i], sets[i] = m.ID, m.LinkSet
		mids[i], froms[i], tos[i] = m.MessageID, m.From, m.To
		if leaseArg == nil {
			offs[i], lens[i] = int64(len(raw)+1), int64(len(m.Raw))
			raw = append(raw, m.Raw...)
		}
	}
	byMID, err := t.messageIDs(ctx, t.stmt(t.q.InsertStepMessages), now, pq.Array(leads), pq.Array(mids),
		pq.Array(froms), pq.Array(tos), raw, pq.Array(enrols), pq.Array(keys), pq.Array(offs), pq.Array(lens), leaseArg, nodeArg(t.node),
		pq.Array(ids), pq.Array(sets))
	if err != nil {
		return nil, fmt.Errorf("store: queue steps: %w", err)
	}
	t.queued = t.queued || leaseArg == nil
	return byMID, nil
}

// Fact is what one counted signal of a lead amounts to: kind open with the
// step's key, click with the step's key and the link's address as URL,
// url with the address of a page viewed, event with the type; when it
// first and last happened, and how often.
type Fact struct {
	LeadID  int64
	Kind    string
	Key     string
	URL     string // a click's link; "" for the other kinds
	FirstAt time.Time
	LastAt  time.Time
	Count   int
}

// Kinds of Fact.
const (
	FactOpen  = "open"
	FactClick = "click"
	FactURL   = "url"
	FactEvent = "event"
)

// FactsOf returns the facts of these leads, by lead: what the dispatcher
// asks of them, in one query whose cost does not grow with their events.
func (t *Tx) FactsOf(ctx context.Context, leadIDs []int64) (map[int64][]Fact, error) {
	out := make(map[int64][]Fact, len(leadIDs))
	if len(leadIDs) == 0 {
		return out, nil
	}
	rows, err := t.stmt(t.q.FactsOfLeads).QueryxContext(ctx, pq.Array(leadIDs))
	if err != nil {
		return nil, fmt.Errorf("store: facts of leads: %w", err)
	}
	defer rows.Close()
	// Scanned by hand: a batch reads thousands of facts, and sqlx's
	// reflection cost as much as the rows themselves.
	for rows.Next() {
		var f Fact
		var first, last int64
		if err := rows.Scan(&f.LeadID, &f.Kind, &f.Key, &f.URL, &first, &last, &f.Count); err != nil {
			return nil, fmt.Errorf("store: facts of leads: %w", err)
		}
		f.FirstAt, f.LastAt = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
		out[f.LeadID] = append(out[f.LeadID], f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: facts of leads: %w", err)
	}
	return out, nil
}

// Lead returns one lead inside the transaction.
func (t *Tx) Lead(ctx context.Context, id int64) (*LeadRow, error) {
	var l LeadRow
	if err := t.stmt(t.q.LeadByID).GetContext(ctx, &l, id); err != nil {
		return nil, fmt.Errorf("store: lead %d: %w", id, notFound(err))
	}
	return &l, nil
}

// EnrolmentsOf returns a lead's enrolments, oldest first.
func (s *Store) EnrolmentsOf(ctx context.Context, leadID int64) ([]lead.Enrolment, error) {
	var rows []enrolmentRow
	if err := s.q.EnrolmentsOfLead.SelectContext(ctx, &rows, leadID); err != nil {
		return nil, fmt.Errorf("store: enrolments of lead: %w", err)
	}
	out := make([]lead.Enrolment, len(rows))
	for i, r := range rows {
		out[i] = lead.Enrolment{
			ID: r.ID, LeadID: r.LeadID, Sequence: r.Sequence, State: r.State, StepsDone: r.StepsDone,
			LastOrder: r.LastOrder, DueAt: r.DueAt, EnrolledAt: r.EnrolledAt, LastSentAt: r.LastSentAt,
			EndedAt: r.EndedAt, EndedReason: r.EndedReason,
		}
	}
	return out, nil
}

// NextEnrolmentDue returns when the earliest active enrolment is due, or nil.
func (s *Store) NextEnrolmentDue(ctx context.Context) (*time.Time, error) {
	var t *time.Time
	if err := s.q.NextEnrolmentDue.GetContext(ctx, &t); err != nil {
		return nil, fmt.Errorf("store: next enrolment due: %w", err)
	}
	return t, nil
}
