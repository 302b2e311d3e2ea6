package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/store"
)

// stepMailOf writes an enrolment of lead and a queued step mail of it, with
// its bytes, and returns the enrolment's and the mail's ids.
func stepMailOf(t *testing.T, s *store.Store, lead int64, now time.Time) (int64, int64) {
	t.Helper()
	db := s.DB()
	var enrol, msg int64
	if err := db.Get(&enrol, `INSERT INTO enrolments (lead_id, sequence, state, due_at, enrolled_at)
		VALUES ($1, 'welcome', 'active', $2, $2) RETURNING id`, lead, now); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&msg, `INSERT INTO messages (kind, lead_id, enrolment_id, message_id, sender, recipient, status, run_at, created_at)
		VALUES ('step', $1, $2::bigint, '<' || $2::bigint || '@erase.example>', 'from@example.com', 'to@example.com', 'queued', $3, $3) RETURNING id`, lead, enrol, now); err != nil {
		t.Fatal(err)
	}
	db.MustExec(`INSERT INTO message_raw (message_id, raw) VALUES ($1, 'x')`, msg)
	return enrol, msg
}

// fourLeads inserts four confirmed leads, prefix1@example.com to
// prefix4@example.com, and returns their ids.
func fourLeads(t *testing.T, db *sqlx.DB, prefix string, now time.Time) []int64 {
	t.Helper()
	var ids []int64
	if err := db.Select(&ids, `INSERT INTO leads (email, status, created_at, updated_at)
		SELECT $2::text || i || '@example.com', 'confirmed', $1, $1 FROM generate_series(1, 4) i RETURNING id`, now, prefix); err != nil {
		t.Fatal(err)
	}
	return ids
}

// eraseThreeOfFour deletes the first of four leads by itself and the next
// two in one statement, and leaves the fourth.
func eraseThreeOfFour(db *sqlx.DB, ids []int64) {
	db.MustExec(`DELETE FROM leads WHERE id = $1`, ids[0])
	db.MustExec(`DELETE FROM leads WHERE id = ANY($1::bigint[])`, "{"+strconv.FormatInt(ids[1], 10)+","+strconv.FormatInt(ids[2], 10)+"}")
}

// Erasing leads erases their mail and its bytes (the trigger on leads,
// since messages have no foreign key to leads), one statement of many
// leads as well as one lead, and leaves the other leads' alone; deleting
// an enrolment leaves its mail, which no longer names it.
func TestEraseLeads_TakesTheirMessages(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	db := s.DB()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ids := fourLeads(t, db, "erase-mail-", now)
	msgs := make([]int64, len(ids))
	var keptEnrol int64
	for i, id := range ids {
		keptEnrol, msgs[i] = stepMailOf(t, s, id, now)
	}
	eraseThreeOfFour(db, ids)
	for i, m := range msgs {
		var n, raws int
		if err := db.QueryRow(`SELECT (SELECT count(*) FROM messages WHERE id = $1), (SELECT count(*) FROM message_raw WHERE message_id = $1)`, m).Scan(&n, &raws); err != nil {
			t.Fatal(err)
		}
		want := 0
		if i == 3 {
			want = 1
		}
		if n != want || raws != want {
			t.Errorf("lead %d: %d messages and %d bytes left, want %d and %d", i, n, raws, want, want)
		}
	}
	db.MustExec(`DELETE FROM enrolments WHERE id = $1`, keptEnrol)
	var enrol *int64
	if err := db.Get(&enrol, `SELECT enrolment_id FROM messages WHERE id = $1`, msgs[3]); err != nil {
		t.Fatal(err)
	}
	if enrol != nil {
		t.Errorf("mail of a deleted enrolment still names it: %d", *enrol)
	}
}

// A lead erased while a dispatcher holds its enrolment waits for the
// dispatcher's transaction, and then erases the mail that transaction
// wrote: no mail outlives its lead.
func TestEraseLead_WaitsForTheDispatcherAndTakesItsMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	db := s.DB()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	lead := confirmedLead(t, s, "erase-race@example.com", now)
	db.MustExec(`INSERT INTO enrolments (lead_id, sequence, state, due_at, enrolled_at) VALUES ($1, 'welcome', 'active', $2, $2)`, lead, now)

	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var enrol int64
	if err := tx.Get(&enrol, `SELECT id FROM enrolments WHERE lead_id = $1 FOR UPDATE SKIP LOCKED`, lead); err != nil {
		t.Fatal(err)
	}
	erased := make(chan error, 1)
	go func() {
		_, err := db.Exec(`DELETE FROM leads WHERE id = $1`, lead)
		erased <- err
	}()
	for waiting := false; !waiting; {
		if err := db.Get(&waiting, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM leads%')`); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-erased:
			t.Fatalf("the erasure did not wait for the dispatcher: %v", err)
		default:
		}
	}
	if _, err := tx.Exec(`INSERT INTO messages (kind, lead_id, enrolment_id, message_id, sender, recipient, status, run_at, created_at)
		VALUES ('step', $1, $2, '<race@erase.example>', 'from@example.com', 'to@example.com', 'queued', $3, $3)`, lead, enrol, now); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-erased; err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM messages WHERE lead_id = $1`, lead); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d mails outlived their lead", n)
	}
}
