package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// Two batches that store the same new sets at the same moment get the
// same ids, and each set is stored once; a set repeated in one batch too.
func TestLinkSets_StoredOnceAcrossConcurrentBatches(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	a := store.NewLinkSet([]store.LinkTarget{{URL: "https://acme.example/a", Text: "A & B"}})
	b := store.NewLinkSet([]store.LinkTarget{{URL: "https://acme.example/b", Text: "b"}, {URL: "https://acme.example/a", Text: "a"}})
	none := store.NewLinkSet(nil)
	got := make([][]int64, 2)
	errs := make([]error, 2)
	batch := []store.LinkSet{a, b, a, none}
	stored, waiting := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	// The first batch stores the sets and holds them uncommitted until the
	// second waits for them: that one's statement cannot see them when
	// they commit, and must ask again.
	wg.Go(func() {
		errs[0] = s.WithTx(ctx, func(tx *store.Tx) error {
			ids, err := tx.LinkSets(ctx, batch)
			got[0] = ids
			close(stored)
			<-waiting
			return err
		})
	})
	wg.Go(func() {
		<-stored
		errs[1] = s.WithTx(ctx, func(tx *store.Tx) error {
			ids, err := tx.LinkSets(ctx, batch)
			got[1] = ids
			return err
		})
	})
	<-stored
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if err := s.DB().GetContext(ctx, &n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`); err != nil {
			t.Fatal(err)
		}
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond) // polling for the second batch to block, not waiting out a delay
	}
	close(waiting)
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("batch %d: %v", i, errs[i])
		}
		if len(got[i]) != 4 || got[i][0] != got[i][2] || got[i][0] == got[i][1] || got[i][3] == got[i][0] {
			t.Fatalf("batch %d ids %v", i, got[i])
		}
	}
	if got[0][0] != got[1][0] || got[0][1] != got[1][1] || got[0][3] != got[1][3] {
		t.Fatalf("the batches got different ids: %v and %v", got[0], got[1])
	}
	var n int
	if err := s.DB().GetContext(ctx, &n, `SELECT count(*) FROM link_sets`); err != nil || n != 3 {
		t.Fatalf("%d link sets (%v), want 3", n, err)
	}
}

// A message's set of links reads back as it was stored, and Relink names
// another one.
func TestLinkSetOf_ReadsTheSetBackAndRelinkReplacesIt(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	first := []store.LinkTarget{{URL: "https://acme.example/guide?a=1&b=2", Text: "the <guide>"}}
	lead := confirmedLead(t, s, "anna@example.com", now)
	var msg int64
	err := s.WithTx(ctx, func(tx *store.Tx) error {
		ids, err := tx.ReserveMessageIDs(ctx, 2)
		if err != nil || len(ids) != 2 || ids[0] == ids[1] {
			t.Fatalf("reserved %v, %v", ids, err)
		}
		sets, err := tx.LinkSets(ctx, []store.LinkSet{store.NewLinkSet(first)})
		if err != nil {
			return err
		}
		msg = ids[1]
		enrolment, _, err := tx.Enrol(ctx, lead, "s", false, now, now)
		if err != nil {
			return err
		}
		byMID, err := tx.QueueSteps(ctx, now, []store.StepMessage{{ID: msg, LinkSet: sets[0], LeadID: lead, EnrolmentID: enrolment, MessageID: "<m@x>", From: "f@x", To: "a@example.com", StepKey: "s/a", Raw: []byte("x")}}, time.Time{})
		if err == nil && byMID["<m@x>"] != msg {
			t.Errorf("queued as %d, reserved %d", byMID["<m@x>"], msg)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, set, err := s.LinkSetOf(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	if ts, err := set.Targets(); err != nil || len(ts) != 1 || ts[0] != first[0] {
		t.Fatalf("read back %+v, %v", ts, err)
	}
	second := store.NewLinkSet([]store.LinkTarget{{URL: "https://acme.example/v2", Text: "v2"}})
	id, err := s.Relink(ctx, msg, second)
	if err != nil {
		t.Fatal(err)
	}
	if got, set, err := s.LinkSetOf(ctx, msg); err != nil || got != id || string(set.JSON) == string(store.NewLinkSet(first).JSON) {
		t.Fatalf("after relink: %d %s %v, want %d", got, set.JSON, err, id)
	}
}
