package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lib/pq"

	"github.com/nurture/nurture/internal/lead"
)

// The common case of a signup, an address seen for the first time, needs no
// decision under a lock: its lead is new, so its mail is due. Its id is
// reserved beforehand, its mail composed for that id outside any
// transaction, and the lead, ledger entry, mail and token written in one
// statement. An address that has a lead by then is skipped whole, and its
// signup written as a repeat in a transaction of its own.

// ReserveLeadIDs takes n ids for leads that InsertFirstSignups writes
// later. Ids never used are gaps in the sequence, nothing more.
func (s *Store) ReserveLeadIDs(ctx context.Context, n int) ([]int64, error) {
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, s.texts[s.q.ReserveLeadIDs], n); err != nil {
		return nil, fmt.Errorf("store: reserve lead ids: %w", err)
	}
	return ids, nil
}

// FirstSignup is the signup of an address that had no lead: the lead to
// insert, with its reserved ID, and what the signup writes besides, whose
// Mail (composed for that ID) must be set.
type FirstSignup struct {
	ID     int64
	Lead   NewLead
	Record Signup
}

// InsertFirstSignups writes each signup whose address still has no lead, in
// one statement: its lead (pending, its mail marked as queued at Lead.At),
// its ledger entry, its mail and its link's token. It returns the ids of the
// mails it wrote by Message-ID; a signup whose mail is missing wrote
// nothing, since its address had a lead, or a concurrent transaction gave it
// one. Leased mails are written as in RecordSignups; waking a sender for
// the queued ones is the caller's, after the call.
func (s *Store) InsertFirstSignups(ctx context.Context, fs []FirstSignup) (map[string]int64, error) {
	if len(fs) == 0 {
		return map[string]int64{}, nil
	}
	args, err := firstColumns(fs)
	if err != nil {
		return nil, fmt.Errorf("store: insert first signups: %w", err)
	}
	// Prepared, unlike the relay's writes (see planned): the statement only
	// inserts, through the address's unique index, so no plan grows worse
	// with the tables, and planning it cost a tenth to a third of running it.
	args = slices.Insert(args, 25, any(nodeArg(s.node.Load())))
	rows, err := s.q.InsertFirst.QueryxContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("store: insert first signups: %w", err)
	}
	defer rows.Close()
	ids := make(map[string]int64, len(fs))
	for rows.Next() {
		var id int64
		var mid string
		if err := rows.Scan(&id, &mid); err != nil {
			return nil, fmt.Errorf("store: insert first signups: %w", err)
		}
		ids[mid] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: insert first signups: %w", err)
	}
	return ids, nil
}

// firstColumns turns the signups into the statement's arrays, $1–$25 and
// $27–$29; the caller puts the node, $26, between them.
func firstColumns(fs []FirstSignup) ([]any, error) {
	n := len(fs)
	leads := make([]NewLead, n)
	for i, f := range fs {
		leads[i] = f.Lead
	}
	c, err := leadColumns(leads)
	if err != nil {
		return nil, err
	}
	var (
		ids                                 = make([]int64, n)
		hashes, tokens                      = make([][]byte, n), make([][]byte, n)
		at, ip, ua, text, version, src, url = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		mid, from, to, lease, expires, data = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		off, size                           = make([]int64, n), make([]int64, n)
		track, trackText, trackVersion      = make([]string, n), make([]string, n), make([]string, n)
		raw                                 = make([]byte, 0, rawSize(fs))
	)
	for i, f := range fs {
		e, m := f.Record.Event, f.Record.Mail
		if m == nil || m.MessageID == "" {
			return nil, errors.New("a first signup without its mail")
		}
		if e.Kind != lead.EventSignup {
			return nil, fmt.Errorf("a first signup's entry of kind %q", e.Kind)
		}
		ids[i], hashes[i], tokens[i] = f.ID, e.EmailHash, f.Record.TokenHash
		at[i], ip[i], ua[i], text[i] = pgTime(e.At.Truncate(time.Millisecond)), e.IP, e.UserAgent, e.ConsentText
		version[i], src[i], url[i] = e.ConsentVersion, e.Source, e.SourceURL
		track[i], trackText[i], trackVersion[i] = trackingArg(e.Tracking), e.TrackingText, e.TrackingVersion
		mid[i], from[i], to[i], expires[i] = m.MessageID, m.From, m.To, pgTime(f.Record.Expires)
		off[i], size[i] = int64(len(raw)+1), int64(len(m.Raw))
		raw = append(raw, m.Raw...)
		if !m.LeaseUntil.IsZero() {
			lease[i] = pgTime(m.LeaseUntil)
		}
		d, err := f.Record.Data.Value()
		if err != nil {
			return nil, err
		}
		data[i] = d.(string)
	}
	return []any{
		pq.Array(ids), pq.Array(c.emails), pq.Array(c.first), pq.Array(c.last), pq.Array(c.source), pq.Array(c.attrs), pq.Array(c.at),
		pq.Array(hashes), pq.Array(at), pq.Array(ip), pq.Array(ua), pq.Array(text), pq.Array(version), pq.Array(src), pq.Array(url),
		pq.Array(mid), pq.Array(from), pq.Array(to), raw, pq.Array(off), pq.Array(size), pq.Array(lease),
		pq.Array(tokens), pq.Array(expires), pq.Array(data),
		pq.Array(track), pq.Array(trackText), pq.Array(trackVersion),
	}, nil
}

// rawSize is the length of the signups' mails together: the statement's one
// bytea is made at its size at once, not grown to it mail by mail.
func rawSize(fs []FirstSignup) int {
	n := 0
	for _, f := range fs {
		if m := f.Record.Mail; m != nil {
			n += len(m.Raw)
		}
	}
	return n
}
