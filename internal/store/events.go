package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// TrackedMessage is what a click of a mail needs of it.
type TrackedMessage struct {
	ID      int64         `db:"id"`
	LeadID  int64         `db:"lead_id"`
	LinkSet int64         `db:"link_set_id"` // 0 for a mail without links
	StepKey string        `db:"step_key"`
	SentAt  *time.Time    `db:"sent_at"` // when SMTP took it; nil until then
	Links   []Link        `db:"-"`       // in tracking.Link.Index order; nil for a mail without a link set
	Recent  []RecentClick `db:"-"`       // its clicks since the time asked for, oldest first

	RawLinks  []byte `db:"links"`
	RawRecent []byte `db:"recent"`
}

// Link returns the link a click token names: tracking.Link.Index, which
// counts from 1. ok is false for an index the mail has no link for.
func (m *TrackedMessage) Link(index int) (l Link, ok bool) {
	if index < 1 || index > len(m.Links) {
		return Link{}, false
	}
	return m.Links[index-1], true
}

// Link is one link of a link set.
type Link struct {
	URL  string `json:"url"`
	Text string `json:"text"`
}

// TrackedMessages returns the messages of these ids that belong to a lead,
// by id, each with its clicks recorded since then; an id missing from the
// map is not such a message.
func (s *Store) TrackedMessages(ctx context.Context, ids []int64, since time.Time) (map[int64]*TrackedMessage, error) {
	var rows []TrackedMessage
	if err := s.q.TrackedMessages.SelectContext(ctx, &rows, pq.Array(ids), since); err != nil {
		return nil, fmt.Errorf("store: tracked messages: %w", err)
	}
	out := make(map[int64]*TrackedMessage, len(rows))
	for i := range rows {
		m := &rows[i]
		if err := json.Unmarshal(m.RawLinks, &m.Links); err != nil {
			return nil, fmt.Errorf("store: tracked messages: links of message %d: %w", m.ID, err)
		}
		if err := json.Unmarshal(m.RawRecent, &m.Recent); err != nil {
			return nil, fmt.Errorf("store: tracked messages: clicks of message %d: %w", m.ID, err)
		}
		for i := range m.Recent {
			m.Recent[i].MessageID, m.Recent[i].LeadID, m.Recent[i].StepKey = m.ID, m.LeadID, m.StepKey
		}
		m.RawLinks, m.RawRecent = nil, nil
		out[m.ID] = m
	}
	return out, nil
}

// RecentClick is a click of a mail recorded shortly before.
type RecentClick struct {
	ID        int64     `json:"id"`
	MessageID int64     `json:"-"`
	Link      int       `json:"link"` // -1 for the honeypot
	Honeypot  bool      `json:"honeypot"`
	At        time.Time `json:"at"`
	Verdict   string    `json:"verdict"`
	URL       string    `json:"url"`
	LeadID    int64     `json:"-"`
	StepKey   string    `json:"-"`
}

// Hit is an open or click to record. Its lead and step are its mail's.
type Hit struct {
	MessageID int64
	Type      string // open, click or honeypot
	Link      int    // -1 for none
	URL       string // a click's target as the mail had it
	At        time.Time
	Source    string // pixel or click
	Verdict   string
	Reason    string
	IPPrefix  string
	UserAgent string
	// Quick is a click judged without its mail: its URL is the link set's
	// and it comes back with its mail. Quiet is one judged human, which
	// stands only if no burst or early delivery says otherwise.
	Quick, Quiet bool
}

// HitOptions are a batch's settings for InsertHits.
type HitOptions struct {
	TrackAll bool // NURTURE_TRACKING=all: write the hits of leads that did not agree too
	// A quiet quick click is deferred if its mail has clicks since Since,
	// or was delivered less than ScanWindow before it.
	Since      time.Time
	ScanWindow time.Duration
	// KnownSets are link sets the caller has the links of (a set never
	// changes): a quick click of a mail with one of them comes back
	// without them.
	KnownSets []int64
}

// HitResult is what became of a Hit: its id if written, 0 when its lead is
// not tracked or it is deferred; Known is false when its message is not a
// lead's mail (or, quick, has no such link). Deferred says a quick click
// was not written and is to be judged again with its mail's recent clicks.
// A known quick click has its mail's lead and link set, the URL of its
// link, and the set's links unless HitOptions.KnownSets has the set.
type HitResult struct {
	ID       int64
	Known    bool
	Deferred bool
	LeadID   int64
	LinkSet  int64
	URL      string
	Links    []Link
}

// InsertHits writes opens and clicks and the lead facts of those that
// count, in one statement, and returns what became of each, by index. A
// hit whose lead is not tracked (unless o.TrackAll) is not written.
func (s *Store) InsertHits(ctx context.Context, hits []Hit, o HitOptions) ([]HitResult, error) {
	return insertHits(ctx, s.q.InsertHits, hits, o)
}

// InsertHits is Store.InsertHits in the transaction.
func (t *Tx) InsertHits(ctx context.Context, hits []Hit, o HitOptions) ([]HitResult, error) {
	return insertHits(ctx, t.stmt(t.q.InsertHits), hits, o)
}

type rowsQuery interface {
	QueryxContext(ctx context.Context, args ...any) (*sqlx.Rows, error)
}

func insertHits(ctx context.Context, q rowsQuery, hits []Hit, o HitOptions) ([]HitResult, error) {
	n := len(hits)
	// The columns share three arrays, one of each type, and the times one:
	// a handful of allocations per batch instead of some per hit. They go
	// in binary (see binaryArray).
	ints, strs, bools, at := make([]int64, 3*n), make([]string, 7*n), make([]bool, 2*n), make([]time.Time, n)
	num, msg, link := ints[:n:n], ints[n:2*n:2*n], ints[2*n:]
	typ, src, url := strs[:n:n], strs[n:2*n:2*n], strs[2*n:3*n:3*n]
	verdict, reason, ip, ua := strs[3*n:4*n:4*n], strs[4*n:5*n:5*n], strs[5*n:6*n:6*n], strs[6*n:]
	quick, quiet := bools[:n:n], bools[n:]
	for i, h := range hits {
		num[i], msg[i], link[i] = int64(i), h.MessageID, int64(h.Link)
		typ[i], src[i], url[i], at[i] = h.Type, h.Source, h.URL, h.At
		verdict[i], reason[i], ip[i], ua[i] = h.Verdict, h.Reason, h.IPPrefix, h.UserAgent
		quick[i], quiet[i] = h.Quick, h.Quiet
	}
	rows, err := q.QueryxContext(ctx, int4Array(num), int8Array(msg), textArray(typ), int4Array(link), timeArray(at),
		textArray(src), textArray(verdict), textArray(reason), textArray(ip), textArray(ua),
		textArray(url), o.TrackAll, boolArray(quick), boolArray(quiet), o.Since, o.ScanWindow.Seconds(), int8Array(o.KnownSets))
	if err != nil {
		return nil, fmt.Errorf("store: insert hits: %w", err)
	}
	defer rows.Close()
	out := make([]HitResult, n)
	// The mails of a batch mostly share their step's link set, whose links
	// come once at most and are parsed once (they are only read).
	var i int
	var raw sql.RawBytes
	var sets map[int64][]Link
	for rows.Next() {
		var r HitResult
		if err := rows.Scan(&i, &r.ID, &r.Known, &r.Deferred, &r.LeadID, &r.LinkSet, &r.URL, &raw); err != nil {
			return nil, fmt.Errorf("store: insert hits: %w", err)
		}
		if raw != nil {
			links, ok := sets[r.LinkSet]
			if !ok {
				if err := json.Unmarshal(raw, &links); err != nil {
					return nil, fmt.Errorf("store: insert hits: links of message %d: %w", hits[i].MessageID, err)
				}
				if sets == nil {
					sets = map[int64][]Link{}
				}
				sets[r.LinkSet] = links
			}
			r.Links = links
		}
		out[i] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: insert hits: %w", err)
	}
	return out, nil
}

// NewEvent is an API, site or system event to record.
type NewEvent struct {
	LeadID         int64
	Type, URL      string
	At             time.Time
	Source         string
	IdempotencyKey string // "" for none
}

// InsertEvents writes events and returns the id of each written, by its
// index in evs. An event whose lead is gone, or whose idempotency key was
// used before, is not written.
func (t *Tx) InsertEvents(ctx context.Context, evs []NewEvent) (map[int]int64, error) {
	n := len(evs)
	num, lead := make([]int64, n), make([]int64, n)
	typ, url, at, src, key := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range evs {
		num[i], lead[i], typ[i], url[i], src[i], key[i] = int64(i), e.LeadID, e.Type, e.URL, e.Source, e.IdempotencyKey
		at[i] = e.At.UTC().Format(time.RFC3339Nano)
	}
	rows, err := t.stmt(t.q.InsertEvents).QueryxContext(ctx, pq.Array(num), pq.Array(lead), pq.Array(typ), pq.Array(url),
		pq.Array(at), pq.Array(src), pq.Array(key))
	if err != nil {
		return nil, fmt.Errorf("store: insert events: %w", err)
	}
	return numbered(rows, "insert events")
}

func numbered(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}, what string) (map[int]int64, error) {
	defer rows.Close()
	out := map[int]int64{}
	for rows.Next() {
		var n int
		var id int64
		if err := rows.Scan(&n, &id); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out[n] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// KeyedEvent is an event recorded under an idempotency key.
type KeyedEvent struct {
	Key    string `db:"idempotency_key"`
	ID     int64  `db:"id"`
	LeadID int64  `db:"lead_id"`
}

// EventsByKey returns the events recorded under these keys, by key.
func (t *Tx) EventsByKey(ctx context.Context, keys []string) (map[string]KeyedEvent, error) {
	var rows []KeyedEvent
	if err := t.stmt(t.q.EventsByKey).SelectContext(ctx, &rows, pq.Array(keys)); err != nil {
		return nil, fmt.Errorf("store: events by key: %w", err)
	}
	out := make(map[string]KeyedEvent, len(rows))
	for _, r := range rows {
		out[r.Key] = r
	}
	return out, nil
}

// RemarkClicks marks recorded clicks as a scanner's, with the reason.
func (t *Tx) RemarkClicks(ctx context.Context, ids []int64, reason string) error {
	if _, err := t.stmt(t.q.RemarkClicks).ExecContext(ctx, pq.Array(ids), reason); err != nil {
		return fmt.Errorf("store: re-mark clicks: %w", err)
	}
	return nil
}

// UpsertFacts adds facts to the leads' facts. Each lead, kind, key and URL
// appears once in facts.
func (t *Tx) UpsertFacts(ctx context.Context, facts []Fact) error {
	if len(facts) == 0 {
		return nil
	}
	n := len(facts)
	lead, count := make([]int64, n), make([]int64, n)
	kind, key, url, first, last := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, f := range facts {
		lead[i], kind[i], key[i], url[i], count[i] = f.LeadID, f.Kind, f.Key, f.URL, int64(f.Count)
		first[i], last[i] = f.FirstAt.UTC().Format(time.RFC3339Nano), f.LastAt.UTC().Format(time.RFC3339Nano)
	}
	if _, err := t.stmt(t.q.UpsertFacts).ExecContext(ctx, pq.Array(lead), pq.Array(kind), pq.Array(key), pq.Array(url),
		pq.Array(first), pq.Array(last), pq.Array(count)); err != nil {
		return fmt.Errorf("store: upsert lead facts: %w", err)
	}
	return nil
}

// RetractFacts takes back Count of each fact; a fact whose count falls to
// nothing is removed.
func (t *Tx) RetractFacts(ctx context.Context, facts []Fact) error {
	if len(facts) == 0 {
		return nil
	}
	n := len(facts)
	lead, count, kind, key, url := make([]int64, n), make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	for i, f := range facts {
		lead[i], kind[i], key[i], url[i], count[i] = f.LeadID, f.Kind, f.Key, f.URL, int64(f.Count)
	}
	if _, err := t.stmt(t.q.RetractFacts).ExecContext(ctx, pq.Array(lead), pq.Array(kind), pq.Array(key), pq.Array(url), pq.Array(count)); err != nil {
		return fmt.Errorf("store: retract lead facts: %w", err)
	}
	return nil
}

// LeadRefs returns the ids of the leads with these ids or (normalised)
// addresses: by id and by address.
func (s *Store) LeadRefs(ctx context.Context, ids []int64, emails []string) (byID map[int64]bool, byEmail map[string]int64, err error) {
	var rows []struct {
		ID    int64  `db:"id"`
		Email string `db:"email"`
	}
	if err := s.q.LeadRefs.SelectContext(ctx, &rows, pq.Array(ids), pq.Array(emails)); err != nil {
		return nil, nil, fmt.Errorf("store: leads by reference: %w", err)
	}
	byID, byEmail = map[int64]bool{}, map[string]int64{}
	for _, r := range rows {
		byID[r.ID], byEmail[r.Email] = true, r.ID
	}
	return byID, byEmail, nil
}
