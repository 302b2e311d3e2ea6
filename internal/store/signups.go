package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/lib/pq"

	"github.com/nurture/nurture/internal/lead"
)

// The batch forms of the signup's queries: each writes many signups in one
// statement, with one array per column. Times go as text in RFC 3339, which
// Postgres rounds to the microsecond as it does a single time.Time argument.

// NewLead is the first signup of an address, which creates its lead.
type NewLead struct {
	Signup lead.Signup
	At     time.Time
	Mailed bool // a confirmation mail is queued at At
}

// Mailed says that a confirmation mail is queued for lead ID at At.
type Mailed struct {
	ID int64
	At time.Time
}

// LeadsForUpdate locks and returns the leads with these normalised
// addresses, in address order; addresses without a lead are left out.
func (t *Tx) LeadsForUpdate(ctx context.Context, emails []string) ([]LeadRow, error) {
	var out []LeadRow
	if err := t.stmt(t.q.LeadsForUpdate).SelectContext(ctx, &out, pq.Array(emails)); err != nil {
		return nil, fmt.Errorf("store: leads for update: %w", err)
	}
	return out, nil
}

// InsertLeads adds pending leads and returns the ids of those inserted by
// address. An address that exists already, or that a concurrent
// transaction inserted, is missing from the result.
func (t *Tx) InsertLeads(ctx context.Context, ws []NewLead) (map[string]int64, error) {
	out := make(map[string]int64, len(ws))
	if len(ws) == 0 {
		return out, nil
	}
	c, err := leadColumns(ws)
	if err != nil {
		return nil, fmt.Errorf("store: insert leads: %w", err)
	}
	rows, err := t.stmt(t.q.InsertLeads).QueryxContext(ctx,
		pq.Array(c.emails), pq.Array(c.first), pq.Array(c.last), pq.Array(c.source), pq.Array(c.attrs), pq.Array(c.at), pq.Array(c.mailed))
	if err != nil {
		return nil, fmt.Errorf("store: insert leads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			return nil, fmt.Errorf("store: insert leads: %w", err)
		}
		out[email] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: insert leads: %w", err)
	}
	return out, nil
}

// MarkConfirmMailed records, for each lead (ID) at most once, that a
// confirmation mail is queued for it at At. A repeated signup changes
// nothing else of its lead: what it said travels with its link.
func (t *Tx) MarkConfirmMailed(ctx context.Context, ws []Mailed) error {
	if len(ws) == 0 {
		return nil
	}
	ids, at := make([]int64, len(ws)), make([]string, len(ws))
	for i, w := range ws {
		ids[i], at[i] = w.ID, pgTime(w.At)
	}
	if _, err := t.stmt(t.q.MarkConfirmMailed).ExecContext(ctx, pq.Array(ids), pq.Array(at)); err != nil {
		return fmt.Errorf("store: mark confirm mailed: %w", err)
	}
	return nil
}

type leadCols struct {
	emails, first, last, source, attrs []string
	at                                 []string
	mailed                             []bool
}

func leadColumns(ws []NewLead) (leadCols, error) {
	n := len(ws)
	c := leadCols{
		emails: make([]string, n), first: make([]string, n), last: make([]string, n),
		source: make([]string, n), attrs: make([]string, n), at: make([]string, n), mailed: make([]bool, n),
	}
	for i, w := range ws {
		a, err := w.Signup.Attributes.Value()
		if err != nil {
			return c, err
		}
		c.emails[i], c.first[i], c.last[i], c.source[i] = w.Signup.Email, w.Signup.FirstName, w.Signup.LastName, w.Signup.Source
		c.attrs[i], c.at[i], c.mailed[i] = a.(string), pgTime(w.At), w.Mailed
	}
	return c, nil
}

// trackingArg is a tracking answer as an element of a text array: 'true',
// 'false', or the empty text where none was given, which the statements read as NULL.
func trackingArg(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

func pgTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// RecordSignups writes, in one statement, what signups write besides their
// leads: each one's ledger entry and, when it has a Mail, that mail in the
// outbox and its link's token, which carries the signup's Data. It returns
// the ids of the mails it wrote, by Message-ID. A mail with a LeaseUntil is
// written as claimed until then, for the sender that will be handed it
// after commit; the others are queued, and wake the sender at commit.
func (t *Tx) RecordSignups(ctx context.Context, ss []Signup) (map[string]int64, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	n := len(ss)
	var (
		leadIDs                                     = make([]int64, n)
		hashes                                      = make([][]byte, n)
		kinds, ats, ips, uas, texts, versions, srcs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		urls, mids                                  = make([]string, n), make([]string, n)
		tracks, trackTexts, trackVersions           = make([]string, n), make([]string, n), make([]string, n)

		mMids, mFrom, mTo, mAt, mExpires []string
		mLease, mData                    []string
		queued                           bool
		mLeads                           []int64
		mHash                            [][]byte
		mOff, mLen                       []int64
	)
	size := 0
	for _, s := range ss {
		if s.Mail != nil {
			size += len(s.Mail.Raw)
		}
	}
	mRaw := make([]byte, 0, size)
	for i, s := range ss {
		e := s.Event
		if e.LeadID == nil {
			return nil, errors.New("store: record signups: an entry without a lead")
		}
		at := pgTime(e.At.Truncate(time.Millisecond))
		leadIDs[i], hashes[i], kinds[i], ats[i] = *e.LeadID, e.EmailHash, string(e.Kind), at
		ips[i], uas[i], texts[i], versions[i], srcs[i], urls[i] = e.IP, e.UserAgent, e.ConsentText, e.ConsentVersion, e.Source, e.SourceURL
		tracks[i], trackTexts[i], trackVersions[i] = trackingArg(e.Tracking), e.TrackingText, e.TrackingVersion
		if m := s.Mail; m != nil {
			mids[i] = m.MessageID
			mMids, mLeads, mFrom, mTo = append(mMids, m.MessageID), append(mLeads, *e.LeadID), append(mFrom, m.From), append(mTo, m.To)
			mOff, mLen = append(mOff, int64(len(mRaw)+1)), append(mLen, int64(len(m.Raw)))
			mRaw = append(mRaw, m.Raw...)
			mAt, mHash, mExpires = append(mAt, at), append(mHash, s.TokenHash), append(mExpires, pgTime(s.Expires))
			lease := ""
			if m.LeaseUntil.IsZero() {
				queued = true
			} else {
				lease = pgTime(m.LeaseUntil)
			}
			mLease = append(mLease, lease)
			data, err := s.Data.Value()
			if err != nil {
				return nil, fmt.Errorf("store: record signups: %w", err)
			}
			mData = append(mData, data.(string))
		}
	}
	if slices.Contains(mMids, "") {
		return nil, errors.New("store: record signups: a mail without a Message-ID")
	}
	ids, err := t.messageIDs(ctx, t.stmt(t.q.RecordSignups),
		pq.Array(leadIDs), pq.Array(hashes), pq.Array(kinds), pq.Array(ats), pq.Array(ips), pq.Array(uas),
		pq.Array(texts), pq.Array(versions), pq.Array(srcs), pq.Array(urls), pq.Array(mids),
		pq.Array(mMids), pq.Array(mLeads), pq.Array(mFrom), pq.Array(mTo), mRaw, pq.Array(mAt), pq.Array(mHash), pq.Array(mExpires),
		pq.Array(mOff), pq.Array(mLen), pq.Array(mLease), pq.Array(mData), nodeArg(t.node),
		pq.Array(tracks), pq.Array(trackTexts), pq.Array(trackVersions))
	if err != nil {
		return nil, fmt.Errorf("store: record signups: %w", err)
	}
	t.queued = t.queued || queued
	return ids, nil
}

// messageIDs runs a query that returns (id, message_id) rows of the mails it
// wrote, and maps Message-IDs to ids.
func (t *Tx) messageIDs(ctx context.Context, q textQuery, args ...any) (map[string]int64, error) {
	rows, err := q.QueryxContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := map[string]int64{}
	for rows.Next() {
		var id int64
		var mid string
		if err := rows.Scan(&id, &mid); err != nil {
			return nil, err
		}
		ids[mid] = id
	}
	return ids, rows.Err()
}

// Retryable reports whether err is a deadlock or serialization failure:
// the transaction was rolled back and may simply run again.
func Retryable(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}
