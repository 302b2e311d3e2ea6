package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	db, _ := pgtest.NewDB(t)
	s, err := store.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func confirmedLead(t *testing.T, s *store.Store, email string, now time.Time) int64 {
	t.Helper()
	var id int64
	err := s.WithTx(context.Background(), func(tx *store.Tx) error {
		var err error
		if id, err = tx.InsertLead(context.Background(), lead.Signup{Email: email}, now, nil); err != nil {
			return err
		}
		_, err = tx.ConfirmLead(context.Background(), id, lead.SignupData{}, now, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestEnrol_OnceUnlessReenroll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	id := confirmedLead(t, s, "a@example.com", now)
	enrol := func(reenroll bool) bool {
		var ok bool
		err := s.WithTx(ctx, func(tx *store.Tx) error {
			var err error
			_, ok, err = tx.Enrol(ctx, id, "welcome", reenroll, now, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !enrol(false) {
		t.Fatal("first enrolment refused")
	}
	if enrol(false) || enrol(true) {
		t.Fatal("second enrolment while active accepted")
	}
	err := s.WithTx(ctx, func(tx *store.Tx) error {
		due, err := tx.ClaimEnrolments(ctx, now, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("claim: %v %v", due, err)
		}
		return tx.SaveEnrolments(ctx, now, []store.Outcome{{ID: due[0].EnrolmentID, State: lead.EnrolmentCompleted, StepsDone: []string{"a", "b"}, LastOrder: 2, DueAt: now, SentAt: &now}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if enrol(false) {
		t.Fatal("enrolled again without reenroll")
	}
	if !enrol(true) {
		t.Fatal("reenroll refused")
	}
	es, err := s.EnrolmentsOf(ctx, id)
	if err != nil || len(es) != 2 {
		t.Fatalf("enrolments: %v %v", es, err)
	}
	if es[0].State != lead.EnrolmentCompleted || len(es[0].StepsDone) != 2 || es[0].LastSentAt == nil || es[0].EndedAt == nil {
		t.Fatalf("saved outcome: %+v", es[0])
	}
}

func TestClaimEnrolments_ConcurrentClaimsAreDisjoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, e := range []string{"a@x.example", "b@x.example", "c@x.example"} {
		id := confirmedLead(t, s, e, now)
		if err := s.WithTx(ctx, func(tx *store.Tx) error { _, _, err := tx.Enrol(ctx, id, "welcome", false, now, now); return err }); err != nil {
			t.Fatal(err)
		}
	}
	held := make(chan struct{})
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.WithTx(ctx, func(tx *store.Tx) error {
			due, err := tx.ClaimEnrolments(ctx, now, 2)
			if err != nil || len(due) != 2 {
				t.Errorf("first claim got %d, %v", len(due), err)
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	err := s.WithTx(ctx, func(tx *store.Tx) error {
		due, err := tx.ClaimEnrolments(ctx, now, 10)
		if err != nil || len(due) != 1 {
			t.Errorf("second claim got %d, %v", len(due), err)
		}
		return nil
	})
	close(release)
	if err != nil {
		t.Errorf("second transaction: %v", err)
	}
	if err := <-first; err != nil {
		t.Errorf("first transaction: %v", err)
	}
}

func TestBounce_StopsEnrolments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	id := confirmedLead(t, s, "a@example.com", now)
	var msg int64
	err := s.WithTx(ctx, func(tx *store.Tx) error {
		if _, _, err := tx.Enrol(ctx, id, "welcome", false, now, now); err != nil {
			return err
		}
		var err error
		msg, err = tx.QueueMessage(ctx, store.NewMessage{Kind: "step", LeadID: &id, MessageID: "<m@x>", From: "f@x", To: "a@example.com", Raw: []byte("x"), RunAt: now})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Bounce(ctx, msg, &id, "550 no such user", now); err != nil {
		t.Fatal(err)
	}
	es, err := s.EnrolmentsOf(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if es[0].State != lead.EnrolmentStopped || es[0].EndedReason != "bounced" {
		t.Fatalf("enrolment after bounce: %+v", es[0])
	}
}
