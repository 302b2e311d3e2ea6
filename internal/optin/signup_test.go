package optin

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nurture/nurture/internal/lead"
)

func signupOf(email string) lead.Signup {
	return lead.Signup{Email: email, FirstName: "Ada", ConsentText: "Send me the newsletter.", ConsentVersion: "v1"}
}

func (b *bundle) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := b.db.Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// subscribeAll runs the signups concurrently and returns each one's error.
func (b *bundle) subscribeAll(ctx context.Context, emails []string) []error {
	errs := make([]error, len(emails))
	var wg sync.WaitGroup
	for i, email := range emails {
		wg.Go(func() { errs[i] = b.svc.Subscribe(ctx, signupOf(email), lead.Evidence{IP: "192.0.2.1"}) })
	}
	wg.Wait()
	return errs
}

func TestSubscribe_ConcurrentDuplicatesMailOnceAndLedgerEveryOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const dups, others = 20, 180
	var emails []string
	for i := range dups + others {
		if i%10 == 0 {
			emails = append(emails, "dup@example.com")
		} else {
			emails = append(emails, fmt.Sprintf("one-%d@example.com", i))
		}
	}
	for i, err := range b.subscribeAll(context.Background(), emails) {
		if err != nil {
			t.Fatalf("signup %d (%s): %v", i, emails[i], err)
		}
	}

	if n := b.count(t, `SELECT count(*) FROM leads`); n != others+1 {
		t.Errorf("leads = %d, want %d", n, others+1)
	}
	if n := b.count(t, `SELECT count(*) FROM messages WHERE recipient = 'dup@example.com'`); n != 1 {
		t.Errorf("mails to the repeated address = %d, want 1", n)
	}
	if n := b.count(t, `SELECT count(*) FROM consent_events e JOIN leads l ON l.id = e.lead_id WHERE l.email = 'dup@example.com' AND e.kind = 'signup'`); n != dups {
		t.Errorf("ledger entries of the repeated address = %d, want %d", n, dups)
	}
	if n := b.count(t, `SELECT count(*) FROM consent_events e JOIN leads l ON l.id = e.lead_id WHERE l.email = 'dup@example.com' AND e.message_id IS NOT NULL`); n != 1 {
		t.Errorf("ledger entries of the repeated address with a mail = %d, want 1", n)
	}
	if n := b.count(t, `SELECT count(*) FROM messages`); n != others+1 {
		t.Errorf("mails = %d, want %d", n, others+1)
	}
	// Every mail has its token, tied to the ledger entry that points to it,
	// and is addressed to its own lead.
	if n := b.count(t, `
		SELECT count(*) FROM messages m
		JOIN leads l ON l.id = m.lead_id AND l.email = m.recipient
		JOIN consent_events e ON e.message_id = m.id AND e.lead_id = l.id
		JOIN confirm_tokens c ON c.signup_event_id = e.id AND c.lead_id = l.id`); n != others+1 {
		t.Errorf("mails with matching lead, entry and token = %d, want %d", n, others+1)
	}
	if n := b.count(t, `SELECT count(*) FROM leads WHERE confirm_mailed_at IS NULL`); n != 0 {
		t.Errorf("%d leads without confirm_mailed_at", n)
	}
	batches, written := b.svc.signups.batches.Load(), b.svc.signups.written.Load()
	t.Logf("%d signups in %d batches", written, batches)
	if written != dups+others {
		t.Errorf("written = %d, want %d", written, dups+others)
	}
	if batches < dups {
		t.Errorf("%d batches for %d signups of one address: some batch held the address twice", batches, dups)
	}
}

func TestSubscribe_FailedBatchFailsEveryCallerAndWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Every token insert fails, so every batch fails at its last statement.
	b.db.MustExec(`ALTER TABLE confirm_tokens ADD CONSTRAINT refuse CHECK (false) NOT VALID`)
	var emails []string
	for i := range 100 {
		emails = append(emails, fmt.Sprintf("f-%d@example.com", i))
	}
	for i, err := range b.subscribeAll(context.Background(), emails) {
		if err == nil || !strings.Contains(err.Error(), "refuse") {
			t.Errorf("signup %d: err = %v, want the batch's error", i, err)
		}
	}
	for _, table := range []string{"leads", "messages", "consent_events", "confirm_tokens"} {
		if n := b.count(t, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%s holds %d rows after failed batches", table, n)
		}
	}
	if b.svc.signups.batches.Load() == 100 {
		t.Log("no batch held more than one signup")
	}

	b.db.MustExec(`ALTER TABLE confirm_tokens DROP CONSTRAINT refuse`)
	if err := b.svc.Subscribe(context.Background(), signupOf("f-0@example.com"), lead.Evidence{}); err != nil {
		t.Fatalf("signup after the failure: %v", err)
	}
}

func TestSubscribe_CancelledBeforeItsBatchWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.svc.Subscribe(ctx, signupOf("gone@example.com"), lead.Evidence{}); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	b.svc.Wait()
	if n := b.count(t, `SELECT count(*) FROM leads`); n != 0 {
		t.Errorf("leads = %d, want 0", n)
	}
}

func TestSubscribe_UnstorableEvidenceIsCleanedNotFatal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ev := lead.Evidence{IP: "192.0.2.1", UserAgent: "agent\x00\xff", SourceURL: "https://example.com/\xe2\x82"}
	if err := b.svc.Subscribe(context.Background(), signupOf("ua@example.com"), ev); err != nil {
		t.Fatal(err)
	}
	var ua, src string
	if err := b.db.QueryRow(`SELECT user_agent, source_url FROM consent_events`).Scan(&ua, &src); err != nil {
		t.Fatal(err)
	}
	if ua != "agent\uFFFD\uFFFD" || src != "https://example.com/\uFFFD" {
		t.Errorf("stored %q, %q", ua, src)
	}
}
