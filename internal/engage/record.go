package engage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// ErrInvalid means an event that cannot be recorded as sent; the
// EventError says which and why.
var ErrInvalid = errors.New("engage: invalid event")

// EventError is what is wrong with one event of a Record call, in words
// for the client that sent it.
type EventError struct {
	Index   int // of the event in the call
	Msg     string
	Unknown bool // no such lead: ErrUnknown, else ErrInvalid
}

func (e *EventError) Error() string { return fmt.Sprintf("event %d: %s", e.Index, e.Msg) }

func (e *EventError) Unwrap() error {
	if e.Unknown {
		return ErrUnknown
	}
	return ErrInvalid
}

// eventType is one word such as demo_requested.
var eventType = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

// event is an Event whose lead is known.
type event struct {
	Event
	lead int64
}

// Record records events, all or none, and enrols their leads in the
// sequences the events trigger, in one transaction shared with concurrent
// calls. An event whose idempotency key was recorded before is not recorded
// again: its Recorded is the earlier one's, with Duplicate set. An
// *EventError names an event that is not valid (ErrInvalid) or of no known
// lead (ErrUnknown); then nothing is recorded.
func (s *Service) Record(ctx context.Context, evs []Event) ([]Recorded, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	if len(evs) > maxBatch {
		return nil, &EventError{Index: maxBatch, Msg: fmt.Sprintf("at most %d events in one call", maxBatch)}
	}
	out := make([]event, len(evs))
	for i, e := range evs {
		if err := s.check(i, &e); err != nil {
			return nil, err
		}
		out[i].Event = e
	}
	if err := s.leads(ctx, out); err != nil {
		return nil, err
	}
	p := &pending{events: out}
	if err := s.w.Do(ctx, p); err != nil {
		return nil, err
	}
	return p.recorded, nil
}

// check validates an event and fills in its defaults.
func (s *Service) check(i int, e *Event) error {
	bad := func(msg string) error { return &EventError{Index: i, Msg: msg} }
	e.Source = cmp.Or(e.Source, "api")
	switch {
	case e.Lead == "":
		return bad(`lead is missing: send an id or an address, such as "anna@example.com"`)
	case !eventType.MatchString(e.Type):
		return bad(`type must be one word such as "demo_requested" (letters, digits, _ . : -; at most 64)`)
	case e.Source != "api" && e.Source != "site" && e.Source != "system":
		return bad("source must be api, site or system")
	case len(e.IdempotencyKey) > 200 || !utf8.ValidString(e.IdempotencyKey):
		return bad("idempotency_key must be UTF-8 text of at most 200 bytes")
	case e.Type == "page_view" && e.URL == "":
		return bad("a page_view needs the url of the page")
	}
	if e.URL != "" {
		u, err := url.Parse(e.URL)
		if err != nil || len(e.URL) > 2000 || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("url must be an http or https address of at most 2000 bytes")
		}
	}
	if e.At.IsZero() {
		e.At = s.cfg.Now()
	}
	e.IdempotencyKey = clean(e.IdempotencyKey, 200)
	return nil
}

// leads resolves the events' leads, by id or by address, in one query.
func (s *Service) leads(ctx context.Context, evs []event) error {
	var ids []int64
	var emails []string
	for i := range evs {
		if id, err := strconv.ParseUint(evs[i].Lead, 10, 63); err == nil {
			evs[i].lead = int64(id)
			ids = append(ids, int64(id))
		} else if email, err := lead.NormalizeEmail(evs[i].Lead); err == nil {
			evs[i].Lead = email
			emails = append(emails, email)
		} else {
			return &EventError{Index: i, Msg: "lead must be an id or an email address", Unknown: false}
		}
	}
	byID, byEmail, err := s.st.LeadRefs(ctx, ids, emails)
	if err != nil {
		return err
	}
	for i := range evs {
		if evs[i].lead == 0 {
			evs[i].lead = byEmail[evs[i].Lead]
		} else if !byID[evs[i].lead] {
			evs[i].lead = 0
		}
		if evs[i].lead == 0 {
			return &EventError{Index: i, Msg: fmt.Sprintf("no lead %q", evs[i].Lead), Unknown: true}
		}
	}
	return nil
}

// writeEvents writes the batch's Record calls' events. A key repeated in
// the batch, or recorded before, makes a duplicate of the first event under
// it. A new event upserts its facts and enrols its lead where it triggers
// sequences.
func (s *Service) writeEvents(ctx context.Context, tx *store.Tx, ps []*pending) (int, error) {
	type origin struct{ p, i int }
	var rows []store.NewEvent
	var from []origin
	firstOf := map[string]int{} // key → row
	dupOf := map[origin]int{}   // a repeat in the batch → the row of its key
	for pi, p := range ps {
		p.recorded = make([]Recorded, len(p.events))
		for i, e := range p.events {
			if k := e.IdempotencyKey; k != "" {
				if r, ok := firstOf[k]; ok {
					dupOf[origin{pi, i}] = r
					continue
				}
				firstOf[k] = len(rows)
			}
			rows = append(rows, store.NewEvent{LeadID: e.lead, Type: e.Type, URL: e.URL, At: e.At, Source: e.Source, IdempotencyKey: e.IdempotencyKey})
			from = append(from, origin{pi, i})
		}
	}
	ids, err := tx.InsertEvents(ctx, rows)
	if err != nil {
		return 0, err
	}
	var taken []string
	for r, row := range rows {
		if _, ok := ids[r]; !ok && row.IdempotencyKey != "" {
			taken = append(taken, row.IdempotencyKey)
		}
	}
	earlier, err := tx.EventsByKey(ctx, taken)
	if err != nil {
		return 0, err
	}
	var f facts
	now := s.cfg.Now()
	results := make([]Recorded, len(rows))
	for r, row := range rows {
		o := from[r]
		id, ok := ids[r]
		switch {
		case ok:
			results[r] = Recorded{ID: id, Lead: row.LeadID}
			f.add(store.Fact{LeadID: row.LeadID, Kind: "event", Key: row.Type, FirstAt: row.At, LastAt: row.At})
			if row.Type == "page_view" {
				f.add(store.Fact{LeadID: row.LeadID, Kind: "url", Key: row.URL, FirstAt: row.At, LastAt: row.At})
			}
			if s.cfg.OnEvent != nil {
				if results[r].Enrolled, err = s.cfg.OnEvent(ctx, tx, row.LeadID, row.Type, now); err != nil {
					return 0, err
				}
			}
		case row.IdempotencyKey != "":
			e := earlier[row.IdempotencyKey]
			results[r] = Recorded{ID: e.ID, Lead: e.LeadID, Duplicate: true}
		default:
			ps[o.p].err = &EventError{Index: o.i, Msg: "the lead was erased meanwhile", Unknown: true}
		}
		ps[o.p].recorded[o.i] = results[r]
	}
	for o, r := range dupOf {
		d := results[r]
		d.Duplicate, d.Enrolled = true, 0
		ps[o.p].recorded[o.i] = d
	}
	return len(ids), tx.UpsertFacts(ctx, f.list)
}
