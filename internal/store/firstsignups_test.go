package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// signupAt is when the signups of these tests happen.
var signupAt = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

// reserve reserves n lead ids, failing the test on an error.
func reserve(t *testing.T, s *store.Store, n int) []int64 {
	t.Helper()
	ids, err := s.ReserveLeadIDs(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// firstSignup is a first signup of email with the reserved id, its mail's
// bytes naming it.
func firstSignup(id int64, email string, at time.Time) store.FirstSignup {
	ev := lead.Evidence{At: at, IP: "192.0.2.1", ConsentText: "Send me the newsletter.", ConsentVersion: "v1"}
	return store.FirstSignup{
		ID:   id,
		Lead: store.NewLead{Signup: lead.Signup{Email: email, FirstName: "New"}, At: at, Mailed: true},
		Record: store.Signup{
			Event: store.NewConsentEvent{LeadID: &id, EmailHash: lead.EmailHash(email), Kind: lead.EventSignup, Evidence: ev},
			Mail: &store.NewMessage{Kind: "confirmation", LeadID: &id, MessageID: "<" + email + ">", From: "news@acme.example", To: email,
				Raw: []byte("To: " + email + "\r\n\r\nconfirm\r\n"), RunAt: at},
			TokenHash: lead.EmailHash("token " + email), Expires: at.Add(72 * time.Hour),
			Data: lead.SignupData{FirstName: "New"},
		},
	}
}

func TestInsertFirstSignups_WritesNewAddressesWholeAndSkipsKnownOnes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := signupAt
	known := confirmedLead(t, s, "known@example.com", now.Add(-time.Hour))

	ids := reserve(t, s, 3)
	if len(ids) != 3 || ids[0] == ids[1] || ids[1] == ids[2] || ids[0] <= known {
		t.Fatalf("reserved %v after lead %d", ids, known)
	}
	fs := []store.FirstSignup{firstSignup(ids[0], "a@example.com", now), firstSignup(ids[1], "known@example.com", now), firstSignup(ids[2], "b@example.com", now)}
	fs[0].Record.Mail.LeaseUntil = now.Add(time.Minute)
	written, err := s.InsertFirstSignups(ctx, fs)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 2 || written["<a@example.com>"] == 0 || written["<b@example.com>"] == 0 {
		t.Fatalf("written = %v, want the mails of a@ and b@ only", written)
	}

	db := s.DB()
	var l store.LeadRow
	if err := db.Get(&l, `SELECT id, email, first_name, status, confirm_mailed_at FROM leads WHERE email = 'a@example.com'`); err != nil {
		t.Fatal(err)
	}
	if l.ID != ids[0] || l.FirstName != "New" || l.Status != lead.StatusPending || l.ConfirmMailedAt == nil || !l.ConfirmMailedAt.Equal(now) {
		t.Errorf("new lead = %+v, want id %d, pending, mailed at %v", l, ids[0], now)
	}
	if err := db.Get(&l, `SELECT id, first_name, status, confirm_mailed_at FROM leads WHERE email = 'known@example.com'`); err != nil {
		t.Fatal(err)
	}
	if l.ID != known || l.FirstName != "" || l.Status != lead.StatusConfirmed || l.ConfirmMailedAt != nil {
		t.Errorf("the known lead changed: %+v", l)
	}
	count := func(q string) (n int) {
		t.Helper()
		if err := db.Get(&n, q); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Each new address has its chain: mail with its exact bytes, the
	// ledger entry naming it, and the token tied to that entry.
	if n := count(`
		SELECT count(*) FROM messages m
		JOIN leads l ON l.id = m.lead_id AND l.email = m.recipient
		JOIN message_raw r ON r.message_id = m.id AND r.raw = convert_to('To: ' || l.email || E'\r\n\r\nconfirm\r\n', 'UTF8')
		JOIN consent_events e ON e.message_id = m.id AND e.lead_id = l.id AND e.kind = 'signup' AND e.ip = '192.0.2.1'
		JOIN confirm_tokens c ON c.signup_event_id = e.id AND c.lead_id = l.id AND c.lead_data->>'first_name' = 'New'`); n != 2 {
		t.Errorf("complete signups = %d, want 2", n)
	}
	if n := count(`SELECT count(*) FROM consent_events WHERE lead_id = ` + fmt.Sprint(known)); n != 0 {
		t.Errorf("the known address got %d ledger entries", n)
	}
	if n := count(`SELECT count(*) FROM messages WHERE status = 'sending' AND message_id = '<a@example.com>' AND attempts = 1`); n != 1 {
		t.Error("the leased mail is not written as held")
	}
	if n := count(`SELECT count(*) FROM messages WHERE status = 'queued' AND message_id = '<b@example.com>'`); n != 1 {
		t.Error("the other mail is not queued")
	}
}

func TestInsertFirstSignups_ConcurrentInsertOfTheAddressWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := signupAt
	ids := reserve(t, s, 2)
	// Another node's transaction has inserted the address, not committed.
	inserted, commit := make(chan struct{}), make(chan struct{})
	other := make(chan error, 1)
	go func() {
		other <- s.WithTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.InsertLeads(ctx, []store.NewLead{{Signup: lead.Signup{Email: "race@example.com", FirstName: "Other"}, At: now}}); err != nil {
				return err
			}
			close(inserted)
			<-commit
			return nil
		})
	}()
	<-inserted
	done := make(chan error, 1)
	var written map[string]int64
	go func() {
		var err error
		written, err = s.InsertFirstSignups(ctx, []store.FirstSignup{firstSignup(ids[0], "race@example.com", now), firstSignup(ids[1], "free@example.com", now)})
		done <- err
	}()
	// It waits for the other transaction, on the address's index entry.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var waiting int
		if err := s.DB().Get(&waiting, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the statement did not wait for the other insert: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the statement never waited for the other insert")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(commit)
	if err := errors.Join(<-other, <-done); err != nil {
		t.Fatal(err)
	}
	if len(written) != 1 || written["<free@example.com>"] == 0 {
		t.Fatalf("written = %v, want free@'s mail only", written)
	}
	var first string
	var mails int
	if err := s.DB().Get(&first, `SELECT first_name FROM leads WHERE email = 'race@example.com'`); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Get(&mails, `SELECT count(*) FROM messages WHERE recipient = 'race@example.com'`); err != nil {
		t.Fatal(err)
	}
	if first != "Other" || mails != 0 {
		t.Errorf("race@: first name %q and %d mails, want the other insert's lead untouched and no mail", first, mails)
	}
}

func TestInsertFirstSignups_RefusesAnIncompleteSignup(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	now := signupAt
	f := firstSignup(1, "x@example.com", now)
	f.Record.Mail = nil
	if _, err := s.InsertFirstSignups(context.Background(), []store.FirstSignup{f}); err == nil {
		t.Fatal("a first signup without a mail was accepted")
	}
	f = firstSignup(1, "x@example.com", now)
	f.Record.Event.Kind = lead.EventResend
	if _, err := s.InsertFirstSignups(context.Background(), []store.FirstSignup{f}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("resend")) {
		t.Fatalf("err = %v, want the kind refused", err)
	}
}

// The ledger entries and tokens of a lead have no foreign key to it (see
// migration 0019); they still go with it, and with nothing else.
func TestDeleteLead_ErasesItsLedgerAndTokensOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := signupAt
	ids := reserve(t, s, 2)
	fs := []store.FirstSignup{firstSignup(ids[0], "gone@example.com", now), firstSignup(ids[1], "kept@example.com", now)}
	if _, err := s.InsertFirstSignups(ctx, fs); err != nil {
		t.Fatal(err)
	}
	db := s.DB()
	db.MustExec(`DELETE FROM leads WHERE id = $1`, ids[0])
	for _, q := range []string{
		`SELECT count(*) FROM consent_events WHERE lead_id = $1`,
		`SELECT count(*) FROM confirm_tokens WHERE lead_id = $1`,
		`SELECT count(*) FROM messages WHERE lead_id = $1`,
	} {
		for i, want := range []int{0, 1} {
			var n int
			if err := db.Get(&n, q, ids[i]); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%s [lead %d]: %d, want %d", q, i, n, want)
			}
		}
	}
}
