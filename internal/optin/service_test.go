package optin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/outbox/outboxtest"
)

// A signup mails a link; GET's check changes nothing, the confirmation
// confirms once, runs the hook in its transaction, and a second
// confirmation writes nothing.
func TestService_SignupMailsALinkThatConfirmsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.subscribe(t, "ada@example.com")
	m := b.onlyMail(t, 0)
	if m.To[0] != "ada@example.com" || m.Subject != "Please confirm your subscription" {
		t.Fatalf("mail to %v: %q", m.To, m.Subject)
	}
	tok, _ := tokens(t, m)

	if st, err := b.svc.CheckConfirm(ctx, tok); err != nil || st.Confirmed {
		t.Fatalf("check: %+v, %v", st, err)
	}
	if d, kinds := b.lookup(t, "ada@example.com"); d.Status != lead.StatusPending || kinds != "signup" {
		t.Fatalf("after the check: %s, ledger %q", d.Status, kinds)
	}
	b.clock.Advance(time.Minute)
	if already, err := b.svc.Confirm(ctx, tok, lead.Evidence{IP: "192.0.2.2"}); err != nil || already {
		t.Fatalf("confirm: already %v, %v", already, err)
	}
	d, kinds := b.lookup(t, "ada@example.com")
	if d.Status != lead.StatusConfirmed || kinds != "signup confirmation" {
		t.Fatalf("after confirming: %s, ledger %q", d.Status, kinds)
	}
	if co := d.Ledger[1]; co.IP != "192.0.2.2" || !co.At.Equal(b.clock.Now()) || co.ConsentVersion != "v1" {
		t.Errorf("confirmation entry %+v", co)
	}
	if got := b.confirmedLeads(); len(got) != 1 || got[0] != d.ID {
		t.Errorf("OnConfirmed ran for %v, want [%d]", got, d.ID)
	}

	if already, err := b.svc.Confirm(ctx, tok, lead.Evidence{}); err != nil || !already {
		t.Fatalf("second confirm: already %v, %v", already, err)
	}
	if st, err := b.svc.CheckConfirm(ctx, tok); err != nil || !st.Confirmed {
		t.Fatalf("check after confirming: %+v, %v", st, err)
	}
	if _, kinds := b.lookup(t, "ada@example.com"); kinds != "signup confirmation" || len(b.confirmedLeads()) != 1 {
		t.Fatalf("the second confirmation wrote: ledger %q, hook ran %d times", kinds, len(b.confirmedLeads()))
	}
	// A confirmed address signs up again: the ledger keeps it, no mail goes.
	b.clock.Advance(48 * time.Hour)
	b.subscribe(t, "ada@example.com")
	if n := len(b.deliver(t)); n != 1 {
		t.Fatalf("a confirmed address was mailed again: %d mails", n)
	}
}

// Within the interval a repeated signup mails nothing; after it, it does.
func TestService_RepeatedSignupMailsOncePerInterval(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.subscribe(t, "ada@example.com")
	b.onlyMail(t, 0)
	b.clock.Advance(23 * time.Hour)
	b.subscribe(t, "ada@example.com")
	if n := len(b.deliver(t)); n != 1 {
		t.Fatalf("%d mails within the interval, want 1", n)
	}
	b.clock.Advance(time.Hour)
	b.subscribe(t, "ada@example.com")
	b.onlyMail(t, 1)
	if _, kinds := b.lookup(t, "ada@example.com"); kinds != "signup signup signup" {
		t.Fatalf("ledger %q", kinds)
	}
}

func TestService_UnknownTokensAndLeadsAreNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	if _, err := b.svc.CheckConfirm(ctx, "nonsense"); !errors.Is(err, ErrNotFound) {
		t.Errorf("check: %v", err)
	}
	if _, err := b.svc.Confirm(ctx, "nonsense", lead.Evidence{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("confirm: %v", err)
	}
	if err := b.svc.Resend(ctx, "nonsense", lead.Evidence{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("resend: %v", err)
	}
	if _, err := b.svc.CheckUnsubscribe(ctx, "AAAAAAAAAAE.bm9wZQ"); !errors.Is(err, ErrNotFound) {
		t.Errorf("check unsubscribe: %v", err)
	}
	if err := b.svc.Unsubscribe(ctx, "AAAAAAAAAAE.bm9wZQ", lead.Evidence{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unsubscribe: %v", err)
	}
	for _, ref := range []string{"nobody@example.com", "42", "not an address"} {
		if _, err := b.svc.Lookup(ctx, ref); !errors.Is(err, ErrNotFound) {
			t.Errorf("lookup %q: %v", ref, err)
		}
	}
	if err := b.svc.Erase(ctx, 42, lead.Evidence{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("erase: %v", err)
	}
}

// An expired link neither confirms nor passes the check; a resend mails a
// new link once per interval, and only a resend that mails is in the ledger.
func TestService_ExpiredLinkIsRenewedByAResend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	old, _ := b.signedUp(t, "ada@example.com")
	b.clock.Advance(72 * time.Hour)

	if _, err := b.svc.CheckConfirm(ctx, old); !errors.Is(err, ErrExpired) {
		t.Fatalf("check: %v, want ErrExpired", err)
	}
	if _, err := b.svc.Confirm(ctx, old, lead.Evidence{}); !errors.Is(err, ErrExpired) {
		t.Fatalf("confirm: %v, want ErrExpired", err)
	}
	if err := b.svc.Resend(ctx, old, lead.Evidence{}); err != nil {
		t.Fatalf("resend: %v", err)
	}
	fresh, _ := tokens(t, b.onlyMail(t, 1))
	if fresh == old {
		t.Fatal("the resend mailed the expired token")
	}
	if err := b.svc.Resend(ctx, old, lead.Evidence{}); err != nil {
		t.Fatalf("second resend: %v", err)
	}
	if d, kinds := b.lookup(t, "ada@example.com"); kinds != "signup resend" || len(b.deliver(t)) != 2 || d.Status != lead.StatusPending {
		t.Fatalf("after a resend within the interval: %s, ledger %q, %d mails", d.Status, kinds, len(b.mail.Messages()))
	}
	if _, err := b.svc.Confirm(ctx, fresh, lead.Evidence{}); err != nil {
		t.Fatalf("confirm the new link: %v", err)
	}
	if d, _ := b.lookup(t, "ada@example.com"); d.Status != lead.StatusConfirmed {
		t.Fatalf("after the new link: %s", d.Status)
	}
	// A resend of a confirmed lead's link mails nothing.
	b.clock.Advance(25 * time.Hour)
	if err := b.svc.Resend(ctx, old, lead.Evidence{}); err != nil || len(b.deliver(t)) != 2 {
		t.Fatalf("resend after confirming: %v, %d mails", err, len(b.mail.Messages()))
	}
}

// Unsubscribing suppresses the address and is written once; a link from
// before it is revoked: it neither confirms nor is renewed.
func TestService_UnsubscribeRevokesTheLinksSentBeforeIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tok, unsub := b.signedUp(t, "ada@example.com")
	if email, err := b.svc.CheckUnsubscribe(ctx, unsub); err != nil || email != "ada@example.com" {
		t.Fatalf("check unsubscribe: %q, %v", email, err)
	}
	b.clock.Advance(time.Minute)
	for range 2 { // a second click withdraws nothing more
		if err := b.svc.Unsubscribe(ctx, unsub, lead.Evidence{IP: "192.0.2.3"}); err != nil {
			t.Fatalf("unsubscribe: %v", err)
		}
	}
	d, kinds := b.lookup(t, "ada@example.com")
	if d.Status != lead.StatusUnsubscribed || kinds != "signup unsubscribe" {
		t.Fatalf("after unsubscribing: %s, ledger %q", d.Status, kinds)
	}
	if un := d.Ledger[1]; un.ConsentVersion != "v1" || un.IP != "192.0.2.3" {
		t.Errorf("unsubscribe entry %+v", un)
	}
	if !b.suppressed(t, "ada@example.com") {
		t.Fatal("the address is not suppressed")
	}
	if _, err := b.svc.CheckConfirm(ctx, tok); !errors.Is(err, ErrRevoked) {
		t.Errorf("check: %v, want ErrRevoked", err)
	}
	if _, err := b.svc.Confirm(ctx, tok, lead.Evidence{}); !errors.Is(err, ErrRevoked) {
		t.Errorf("confirm: %v, want ErrRevoked", err)
	}
	b.clock.Advance(72 * time.Hour)
	if err := b.svc.Resend(ctx, tok, lead.Evidence{}); !errors.Is(err, ErrRevoked) {
		t.Errorf("resend: %v, want ErrRevoked", err)
	}
	if d, kinds := b.lookup(t, "ada@example.com"); d.Status != lead.StatusUnsubscribed || kinds != "signup unsubscribe" || len(b.deliver(t)) != 1 {
		t.Fatalf("the old link changed something: %s, ledger %q, %d mails", d.Status, kinds, len(b.mail.Messages()))
	}

	// Signing up again sends a link that confirms, and lifts the suppression.
	b.subscribe(t, "ada@example.com")
	fresh, _ := tokens(t, b.onlyMail(t, 1))
	if _, err := b.svc.Confirm(ctx, fresh, lead.Evidence{}); err != nil {
		t.Fatalf("confirm the new link: %v", err)
	}
	if d, _ := b.lookup(t, "ada@example.com"); d.Status != lead.StatusConfirmed || b.suppressed(t, "ada@example.com") {
		t.Fatalf("after the new link: %s, suppressed %v", d.Status, b.suppressed(t, "ada@example.com"))
	}
}

// Erasure leaves the suppression and one entry that names the consent it
// withdrew.
func TestService_EraseLeavesOnlyTheSuppressionAndItsProof(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tok, _ := b.signedUp(t, "ada@example.com")
	if _, err := b.svc.Confirm(ctx, tok, lead.Evidence{}); err != nil {
		t.Fatal(err)
	}
	d, _ := b.lookup(t, "ada@example.com")
	if err := b.svc.Erase(ctx, d.ID, lead.Evidence{IP: "192.0.2.9"}); err != nil {
		t.Fatalf("erase: %v", err)
	}
	if _, err := b.svc.Lookup(ctx, "ada@example.com"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("lookup after erasure: %v", err)
	}
	var left []struct {
		Kind           string `db:"kind"`
		ConsentVersion string `db:"consent_version"`
		IP             string `db:"ip"`
	}
	if err := b.db.Select(&left, `SELECT kind, consent_version, ip FROM consent_events WHERE email_hash = sha256('ada@example.com')`); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].Kind != "erasure" || left[0].ConsentVersion != "v1" || left[0].IP != "192.0.2.9" {
		t.Fatalf("ledger after erasure: %+v", left)
	}
	if !b.suppressed(t, "ada@example.com") {
		t.Fatal("the erased address is not suppressed")
	}
	for _, table := range []string{"leads", "confirm_tokens"} {
		if n := b.count(t, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%s holds %d rows after the erasure", table, n)
		}
	}
	if err := b.svc.Erase(ctx, d.ID, lead.Evidence{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second erasure: %v", err)
	}
}

// The purge deletes leads that never confirmed once the retention has
// passed since their signup, and keeps confirmed ones.
func TestService_PurgeDeletesNeverConfirmedLeadsAfterTheRetention(t *testing.T) {
	t.Parallel()
	b := setupWith(t, Options{Retention: 10 * 24 * time.Hour})
	ctx := context.Background()
	b.subscribe(t, "pending@example.com")
	b.subscribe(t, "confirmed@example.com")
	b.svc.Wait()
	for _, m := range b.deliver(t) {
		if m.To[0] == "confirmed@example.com" {
			tok, _ := tokens(t, m)
			if _, err := b.svc.Confirm(ctx, tok, lead.Evidence{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.clock.Advance(10*24*time.Hour - time.Minute)
	if n, err := b.svc.Purge(ctx); err != nil || n != 0 {
		t.Fatalf("purge within the retention: %d, %v", n, err)
	}
	b.clock.Advance(2 * time.Minute)
	if n, err := b.svc.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("purge after the retention: %d, %v; want 1", n, err)
	}
	if _, err := b.svc.Lookup(ctx, "pending@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the pending lead is still there: %v", err)
	}
	if d, kinds := b.lookup(t, "confirmed@example.com"); d.Status != lead.StatusConfirmed || kinds != "signup confirmation" {
		t.Errorf("the confirmed lead after the purge: %s, ledger %q", d.Status, kinds)
	}
	if n := b.count(t, `SELECT count(*) FROM consent_events WHERE email_hash = sha256('pending@example.com')`); n != 0 {
		t.Errorf("the purged lead left %d ledger entries", n)
	}
}

// Signups and resends of one address share its hourly limit, which the
// clock refills.
func TestService_RateLimitPerAddressFollowsTheClock(t *testing.T) {
	t.Parallel()
	b := setupWith(t, Options{RatePerEmail: 2})
	ctx := context.Background()
	tok, _ := b.signedUp(t, "ada@example.com")
	b.clock.Advance(72 * time.Hour) // the link expires, and the signup's hour is long over
	if err := b.svc.Resend(ctx, tok, lead.Evidence{}); err != nil {
		t.Fatalf("resend: %v", err)
	}
	b.subscribe(t, "ada@example.com")
	if err := b.svc.Subscribe(ctx, signupOf("ada@example.com"), lead.Evidence{}); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("third signup in the hour: %v, want ErrRateLimited", err)
	}
	if err := b.svc.Subscribe(ctx, signupOf("bob@example.com"), lead.Evidence{}); err != nil {
		t.Fatalf("another address: %v", err)
	}
	b.clock.Advance(time.Hour)
	if err := b.svc.Subscribe(ctx, signupOf("ada@example.com"), lead.Evidence{}); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
}

// With a running relay as Sender, the confirmation mail is handed over as
// its signup commits, never claimed from the outbox.
func TestService_ConfirmationMailIsHandedToARunningSender(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.svc.opts.Sender = b.relay // before any signup reads it
	outboxtest.Run(t, b.relay)
	b.subscribe(t, "ada@example.com")
	wait, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	msgs, err := b.mail.WaitFor(wait, 1)
	if err != nil {
		t.Fatal(err)
	}
	if msgs[0].To[0] != "ada@example.com" || !strings.Contains(msgs[0].Text, "/confirm/") {
		t.Fatalf("mail %v:\n%s", msgs[0].To, msgs[0].Text)
	}
	if s := b.relay.Stats(); s.Handed != 1 {
		t.Fatalf("relay stats %+v, want the mail handed over", s)
	}
}

func (b *bundle) suppressed(t *testing.T, email string) bool {
	t.Helper()
	var ok bool
	if err := b.db.Get(&ok, `SELECT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = sha256(convert_to($1, 'UTF8')))`, email); err != nil {
		t.Fatal(err)
	}
	return ok
}
