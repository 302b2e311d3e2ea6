package optin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
	"github.com/nurture/nurture/templates"
)

// otherNode is a second Service on the bundle's database, as another
// process would run it: its own pool, store and signup writer.
func (b *bundle) otherNode(t *testing.T) *Service {
	t.Helper()
	st, err := store.New(context.Background(), b.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, err := mailer.NewComposer(mailer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://nurture.test")
	links := link.New(base, token.NewSigner([]byte(strings.Repeat("k", 32))), "")
	now := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	svc, err := New(st, c, links, templates.FS, slog.New(slog.NewTextHandler(io.Discard, nil)),
		func() time.Time { return now }, Options{From: "Acme <news@acme.example>"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Wait)
	return svc
}

// chains counts the mails that have their whole chain: addressed to their
// own lead, named by a signup's ledger entry of that lead, with a token tied
// to that entry.
func (b *bundle) chains(t *testing.T) int {
	return b.count(t, `
		SELECT count(*) FROM messages m
		JOIN leads l ON l.id = m.lead_id AND l.email = m.recipient
		JOIN message_raw r ON r.message_id = m.id
		JOIN consent_events e ON e.message_id = m.id AND e.lead_id = l.id AND e.kind = 'signup'
		JOIN confirm_tokens c ON c.signup_event_id = e.id AND c.lead_id = l.id`)
}

func TestSubscribe_NewAddressesInOneStatementKnownOnesAsRepeats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for _, email := range []string{"pending@example.com", "due@example.com", "confirmed@example.com"} {
		if err := b.svc.Subscribe(ctx, signupOf(email), lead.Evidence{}); err != nil {
			t.Fatal(err)
		}
	}
	b.db.MustExec(`UPDATE leads SET status = 'confirmed', confirmed_at = created_at WHERE email = 'confirmed@example.com'`)
	// due@'s last mail went out longer ago than the interval.
	b.db.MustExec(`UPDATE leads SET confirm_mailed_at = confirm_mailed_at - interval '25 hours' WHERE email = 'due@example.com'`)
	firsts := b.svc.signups.firsts.Load()

	emails := []string{"pending@example.com", "due@example.com", "confirmed@example.com"}
	for i := range 20 {
		emails = append(emails, fmt.Sprintf("new-%d@example.com", i))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(emails))
	for i, email := range emails {
		s := signupOf(email)
		s.FirstName = "Changed"
		wg.Go(func() { errs[i] = b.svc.Subscribe(ctx, s, lead.Evidence{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("signup of %s: %v", emails[i], err)
		}
	}

	if got := b.svc.signups.firsts.Load() - firsts; got != 20 {
		t.Errorf("%d signups written whole in one statement, want the 20 new addresses", got)
	}
	if got := b.svc.signups.repeats.Load(); got != 3 {
		t.Errorf("%d signups written as repeats, want the 3 known addresses", got)
	}
	if n := b.count(t, `SELECT count(*) FROM leads`); n != 23 {
		t.Errorf("leads = %d, want 23", n)
	}
	if n := b.count(t, `SELECT count(*) FROM leads WHERE first_name = 'Changed' AND email NOT LIKE 'new-%'`); n != 0 {
		t.Errorf("a repeat overwrote %d leads", n)
	}
	// Mails: one each for the new addresses and the first round, and a
	// second for due@ only; every signup has its ledger entry.
	for _, c := range []struct {
		email          string
		mails, entries int
	}{
		{"pending@example.com", 1, 2}, {"due@example.com", 2, 2}, {"confirmed@example.com", 1, 2}, {"new-7@example.com", 1, 1},
	} {
		if n := b.count(t, `SELECT count(*) FROM messages WHERE recipient = $1`, c.email); n != c.mails {
			t.Errorf("mails to %s = %d, want %d", c.email, n, c.mails)
		}
		if n := b.count(t, `SELECT count(*) FROM consent_events e JOIN leads l ON l.id = e.lead_id WHERE l.email = $1 AND e.kind = 'signup'`, c.email); n != c.entries {
			t.Errorf("ledger entries of %s = %d, want %d", c.email, n, c.entries)
		}
	}
	if n := b.chains(t); n != 24 {
		t.Errorf("mails with their whole chain = %d, want 24", n)
	}
	// Every mail's unsubscribe link names its own lead, the repeat's too,
	// whose mail was composed again for it.
	rows, err := b.db.Query(`SELECT m.lead_id, r.raw FROM messages m JOIN message_raw r ON r.message_id = m.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), b.svc.links.Unsubscribe(id)) {
			t.Errorf("the mail to lead %d does not link to its unsubscribe page", id)
		}
	}
}

func TestSubscribe_TwoNodesOnTheSameAddressesMailOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := b.otherNode(t)
	ctx := context.Background()
	const shared, own = 40, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for n, svc := range []*Service{b.svc, other} {
		for i := range shared + own {
			email := fmt.Sprintf("shared-%d@example.com", i)
			if i >= shared {
				email = fmt.Sprintf("own-%d-%d@example.com", n, i)
			}
			wg.Go(func() {
				if err := svc.Subscribe(ctx, signupOf(email), lead.Evidence{}); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%s: %w", email, err))
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if n := b.count(t, `SELECT count(*) FROM leads`); n != shared+2*own {
		t.Errorf("leads = %d, want %d", n, shared+2*own)
	}
	if n := b.count(t, `SELECT count(*) FROM (SELECT recipient FROM messages GROUP BY recipient HAVING count(*) <> 1) x`); n != 0 {
		t.Errorf("%d addresses did not get exactly one mail", n)
	}
	if n := b.count(t, `SELECT count(*) FROM messages`); n != shared+2*own {
		t.Errorf("mails = %d, want %d", n, shared+2*own)
	}
	if n := b.count(t, `SELECT count(*) FROM consent_events e JOIN leads l ON l.id = e.lead_id WHERE l.email LIKE 'shared-%' AND e.kind = 'signup'`); n != 2*shared {
		t.Errorf("ledger entries of the shared addresses = %d, want %d", n, 2*shared)
	}
	if n := b.chains(t); n != shared+2*own {
		t.Errorf("mails with their whole chain = %d, want %d", n, shared+2*own)
	}
	firsts := b.svc.signups.firsts.Load() + other.signups.firsts.Load()
	repeats := b.svc.signups.repeats.Load() + other.signups.repeats.Load()
	t.Logf("%d first signups, %d repeats", firsts, repeats)
	if firsts != shared+2*own || repeats != shared {
		t.Errorf("%d first signups and %d repeats, want %d and %d", firsts, repeats, shared+2*own, shared)
	}
}
