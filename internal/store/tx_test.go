package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/store"
)

func TestWithTx_AfterCommitRunsOnlyOnceCommitted(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var ran []string
	boom := errors.New("boom")
	err := s.WithTx(ctx, func(tx *store.Tx) error {
		tx.AfterCommit(func() { ran = append(ran, "rolled back") })
		return boom
	})
	if !errors.Is(err, boom) || len(ran) != 0 {
		t.Fatalf("rolled back: err %v, ran %v", err, ran)
	}
	err = s.WithTx(ctx, func(tx *store.Tx) error {
		tx.AfterCommit(func() { ran = append(ran, "first") })
		tx.AfterCommit(func() { ran = append(ran, "second") })
		if tx.Queued() {
			t.Error("Queued before any mail was queued")
		}
		if _, err := tx.QueueMessage(ctx, store.NewMessage{Kind: "test", MessageID: "<q@x>", From: "f@x", To: "a@example.com", Raw: []byte("x"), RunAt: now}); err != nil {
			return err
		}
		if !tx.Queued() {
			t.Error("not Queued after queueing a mail")
		}
		if len(ran) != 0 {
			t.Error("AfterCommit ran before the commit")
		}
		return nil
	})
	if err != nil || len(ran) != 2 || ran[0] != "first" || ran[1] != "second" {
		t.Fatalf("committed: err %v, ran %v", err, ran)
	}
	// Mail written leased is handed over, not claimed: nothing to wake for.
	err = s.WithTx(ctx, func(tx *store.Tx) error {
		_, err := tx.QueueMessage(ctx, store.NewMessage{Kind: "test", MessageID: "<l@x>", From: "f@x", To: "a@example.com", Raw: []byte("x"), RunAt: now, LeaseUntil: now.Add(time.Minute)})
		if tx.Queued() {
			t.Error("Queued after writing leased mail")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
