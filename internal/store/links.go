package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/lib/pq"
)

// LinkTarget is one link of a tracked mail as link_sets keeps it: where a
// click on it leads, and its text. A click token's link index n names the
// set's element n-1.
type LinkTarget struct {
	URL  string `json:"url"`
	Text string `json:"text"`
}

// LinkSet is the links of a tracked mail, by index, as stored: the JSON
// array and its SHA-256. A set is stored once, however many mails share it,
// and never changed, so a mail's links lead where they led when it was sent
// whatever becomes of its step.
type LinkSet struct {
	Digest []byte
	JSON   []byte
}

// NewLinkSet makes the set of these links, in their order.
func NewLinkSet(links []LinkTarget) LinkSet {
	if links == nil {
		links = []LinkTarget{} // a tracked mail without links has the empty set: "[]"
	}
	b, err := json.Marshal(links)
	if err != nil {
		panic(fmt.Sprintf("store: link set: %v", err)) // strings always marshal
	}
	sum := sha256.Sum256(b)
	return LinkSet{Digest: sum[:], JSON: b}
}

// Targets decodes the set's links.
func (s LinkSet) Targets() ([]LinkTarget, error) {
	var out []LinkTarget
	if err := json.Unmarshal(s.JSON, &out); err != nil {
		return nil, fmt.Errorf("store: link set: %w", err)
	}
	return out, nil
}

// ReserveMessageIDs takes n ids for messages that this transaction queues
// later with them (StepMessage.ID).
func (t *Tx) ReserveMessageIDs(ctx context.Context, n int) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, n)
	if err := t.stmt(t.q.ReserveMessageIDs).SelectContext(ctx, &ids, n); err != nil {
		return nil, fmt.Errorf("store: reserve message ids: %w", err)
	}
	return ids, nil
}

// LinkSets stores the sets not stored yet and returns the id of each set,
// by position. A set stored by a transaction that has not committed is
// not known to others until it does; ids are safe to remember only once
// this transaction has committed.
func (t *Tx) LinkSets(ctx context.Context, sets []LinkSet) ([]int64, error) {
	ids := make(map[string]int64, len(sets))
	for try := 0; try < 3; try++ {
		var digests [][]byte
		var texts []string
		for _, s := range sets {
			if _, ok := ids[string(s.Digest)]; !ok && !slices.ContainsFunc(digests, func(d []byte) bool { return bytes.Equal(d, s.Digest) }) {
				digests, texts = append(digests, s.Digest), append(texts, string(s.JSON))
			}
		}
		if len(digests) == 0 {
			break
		}
		// In one order, so that two batches storing the same new sets
		// wait for each other rather than deadlock.
		order := make([]int, len(digests))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return bytes.Compare(digests[a], digests[b]) })
		sd, st := make([][]byte, len(order)), make([]string, len(order))
		for i, j := range order {
			sd[i], st[i] = digests[j], texts[j]
		}
		var rows []struct {
			ID     int64  `db:"id"`
			Digest []byte `db:"digest"`
		}
		if err := t.stmt(t.q.InsertLinkSets).SelectContext(ctx, &rows, pq.Array(sd), pq.Array(st)); err != nil {
			return nil, fmt.Errorf("store: link sets: %w", err)
		}
		for _, r := range rows {
			ids[string(r.Digest)] = r.ID
		}
	}
	out := make([]int64, len(sets))
	for i, s := range sets {
		id, ok := ids[string(s.Digest)]
		if !ok {
			return nil, fmt.Errorf("store: link set %x is neither stored nor found", s.Digest)
		}
		out[i] = id
	}
	return out, nil
}

// LinkSetOf returns the set of links of a message and its id;
// ErrNotFound means the message was not tracked (or does not exist).
func (s *Store) LinkSetOf(ctx context.Context, messageID int64) (int64, LinkSet, error) {
	var row struct {
		ID    int64  `db:"id"`
		Links string `db:"links"`
	}
	if err := s.q.LinkSetOfMessage.GetContext(ctx, &row, messageID); err != nil {
		return 0, LinkSet{}, fmt.Errorf("store: link set of message %d: %w", messageID, notFound(err))
	}
	return row.ID, LinkSet{JSON: []byte(row.Links)}, nil
}

// Relink stores set and makes it message's set of links, in one
// transaction: for a mail composed again whose links are not the ones
// first stored for it, because its step was edited since. It returns the
// set's id.
func (s *Store) Relink(ctx context.Context, messageID int64, set LinkSet) (int64, error) {
	var id int64
	err := s.WithTx(ctx, func(tx *Tx) error {
		ids, err := tx.LinkSets(ctx, []LinkSet{set})
		if err != nil {
			return err
		}
		id = ids[0]
		if _, err := tx.stmt(s.q.SetMessageLinkSet).ExecContext(ctx, messageID, id); err != nil {
			return fmt.Errorf("store: relink message %d: %w", messageID, err)
		}
		return nil
	})
	return id, err
}

// LinkMail is a tracked mail of a lead and its set of links.
type LinkMail struct {
	ID      int64 `db:"id"`
	LeadID  int64 `db:"lead_id"`
	LinkSet int64 `db:"link_set_id"`
}

// RecentLinkMails returns the newest limit tracked mails of leads whose
// ids are above after, newest first.
func (s *Store) RecentLinkMails(ctx context.Context, after int64, limit int) ([]LinkMail, error) {
	var out []LinkMail
	if err := s.q.RecentLinkMails.SelectContext(ctx, &out, after, limit); err != nil {
		return nil, fmt.Errorf("store: recent tracked mails: %w", err)
	}
	return out, nil
}

// LinkSetsByID returns the links of the sets of these ids, by id.
func (s *Store) LinkSetsByID(ctx context.Context, ids []int64) (map[int64][]Link, error) {
	var rows []struct {
		ID    int64  `db:"id"`
		Links string `db:"links"`
	}
	if err := s.q.LinkSetsByID.SelectContext(ctx, &rows, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("store: link sets: %w", err)
	}
	out := make(map[int64][]Link, len(rows))
	for _, r := range rows {
		var links []Link
		if err := json.Unmarshal([]byte(r.Links), &links); err != nil {
			return nil, fmt.Errorf("store: link set %d: %w", r.ID, err)
		}
		out[r.ID] = links
	}
	return out, nil
}
