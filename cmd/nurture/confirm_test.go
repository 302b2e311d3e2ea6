package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/devmail"
)

func TestConfirm_ExpiredLinkOffersNewMail(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	h.subscribeJSON(signup("frank@example.com"))
	path := strings.TrimPrefix(linkIn(t, h.waitMail(1)), h.base)
	h.advance(72*time.Hour + time.Second)

	page := h.do("GET", path, "", nil)
	if page.status != 410 || !strings.Contains(page.body, path+"/resend") {
		t.Fatalf("expired page: %d %s", page.status, page.body)
	}
	if res := h.do("POST", path, "", nil); res.status != 410 || h.lead("frank@example.com").Status != "pending" {
		t.Fatalf("expired link confirmed: %d", res.status)
	}
	if res := h.do("POST", path+"/resend", "", nil); res.status != 200 {
		t.Fatalf("resend: %d %s", res.status, res.body)
	}
	fresh := strings.TrimPrefix(linkIn(t, h.waitMail(2)), h.base)
	if fresh == path {
		t.Fatal("resend reused the expired token")
	}
	if res := h.do("POST", fresh, "", nil); res.status != 200 || h.lead("frank@example.com").Status != "confirmed" {
		t.Fatalf("new link: %d", res.status)
	}
}

func TestConfirm_TamperedTokenIs404AndChangesNothing(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	h.subscribeJSON(signup("gina@example.com"))
	path := strings.TrimPrefix(linkIn(t, h.waitMail(1)), h.base)
	last := path[len(path)-1]
	flip := byte('A')
	if last == 'A' {
		flip = 'B'
	}
	for _, bad := range []string{path[:len(path)-1] + string(flip), "/confirm/nonsense", path + "x"} {
		for _, method := range []string{"GET", "POST"} {
			if res := h.do(method, bad, "", nil); res.status != 404 || !strings.Contains(res.body, "Link not found") {
				t.Errorf("%s %s: %d", method, bad, res.status)
			}
		}
	}
	if l := h.lead("gina@example.com"); l.Status != "pending" || len(l.Ledger) != 1 {
		t.Fatalf("tampered token changed the lead: %+v", l)
	}
	if res := h.do("POST", "/unsubscribe/AAAAAAAAAAE.bm9wZQ", "", nil); res.status != 404 {
		t.Fatalf("forged unsubscribe token: %d", res.status)
	}
}

func TestConfirm_AppliesTheDataOfTheSignupWhoseLinkWasConfirmed(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": campaignsBySource(t)})
	h.subscribeJSON(signup("anna@example.com"))
	h.waitMail(1)
	h.advance(25 * time.Hour)
	h.subscribeJSON(intruder("anna@example.com"))
	theirs := strings.TrimPrefix(linkIn(t, h.waitMail(2)), h.base)

	if res := h.do("POST", theirs, "", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	l := h.lead("anna@example.com")
	if l.FirstName != "Mallory" || l.LastName != "Mayhem" || l.Source != "webinar" ||
		l.Attrs["company"] != "Other Corp" || l.Attrs["timezone"] != nil {
		t.Fatalf("lead after the second link: %s %s, source %q, %v", l.FirstName, l.LastName, l.Source, l.Attrs)
	}
	if got := h.sequencesOf(l.ID); len(got) != 1 || got[0] != "webinar" {
		t.Fatalf("enrolled in %v, want [webinar]", got)
	}
	if co := l.Ledger[len(l.Ledger)-1]; co.Kind != "confirmation" || co.Source != "webinar" {
		t.Fatalf("confirmation entry: %+v", co)
	}
}

func TestResend_NewLinkCarriesTheDataOfTheExpiredOne(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	h.subscribeJSON(intruder("anna@example.com")) // someone else was first
	h.waitMail(1)
	h.advance(25 * time.Hour)
	h.subscribeJSON(signup("anna@example.com"))
	annas := strings.TrimPrefix(linkIn(t, h.waitMail(2)), h.base)
	h.advance(72 * time.Hour)

	if res := h.do("POST", annas+"/resend", "", nil); res.status != 200 {
		t.Fatalf("resend: %d %s", res.status, res.body)
	}
	m := h.waitMail(3)
	if !strings.Contains(m.Text, "Anna") {
		t.Errorf("the new mail does not greet Anna:\n%s", m.Text)
	}
	if res := h.do("POST", strings.TrimPrefix(linkIn(t, m), h.base), "", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	wantAnnasData(t, h.lead("anna@example.com"))
}

// expiredLink signs email up and returns its confirmation link's path once
// the link has expired.
func (h *harness) expiredLink(t *testing.T, email string) string {
	t.Helper()
	if res := h.subscribeJSON(signup(email)); res.status != 202 {
		t.Fatalf("signup: %d %s", res.status, res.body)
	}
	path := strings.TrimPrefix(linkIn(t, h.waitMail(1)), h.base)
	h.advance(72*time.Hour + time.Second)
	return path
}

// confirmAnna signs anna@example.com up and confirms her through the link
// in her mail, and returns the mail and the link's path.
func confirmAnna(t *testing.T, h *harness) (devmail.Message, string) {
	t.Helper()
	h.subscribeJSON(signup("anna@example.com"))
	m := h.waitMail(1)
	link := strings.TrimPrefix(linkIn(t, m), h.base)
	if res := h.do("POST", link, "", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	return m, link
}

// wantNoLongerValid checks that an old link gets the page that says so on
// GET, POST and resend, and that none of them changes the lead or mails.
func wantNoLongerValid(t *testing.T, h *harness, path, email, status string) {
	t.Helper()
	before := h.lead(email)
	mails := len(h.mail.Messages())
	for _, req := range []struct{ method, path string }{{"GET", path}, {"POST", path}, {"POST", path + "/resend"}} {
		res := h.do(req.method, req.path, "application/x-www-form-urlencoded", nil)
		if res.status != 410 || !strings.Contains(res.body, "no longer valid") || strings.Contains(res.body, "/resend") {
			t.Errorf("%s %s: %d %s", req.method, req.path, res.status, res.body)
		}
	}
	l := h.lead(email)
	if l.Status != status || len(l.Ledger) != len(before.Ledger) || !h.suppressed(email) {
		t.Errorf("an old link changed the lead: %s, %d ledger entries (had %d), suppressed %v",
			l.Status, len(l.Ledger), len(before.Ledger), h.suppressed(email))
	}
	if got := countMessages(t, h, email); got != mails {
		t.Errorf("an old link queued mail: %d mails, had %d", got, mails)
	}
}

func TestConfirm_LinkFromBeforeAnUnsubscribeNeverResubscribes(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	first, old := confirmAnna(t, h)
	h.advance(time.Hour)
	h.unsubscribeVia(first)
	h.advance(time.Hour) // the link is still within its 72 hours
	wantNoLongerValid(t, h, old, "anna@example.com", "unsubscribed")

	// Anna comes back by signing up again; only the new link confirms.
	h.advance(24 * time.Hour)
	h.subscribeJSON(signup("anna@example.com"))
	fresh := strings.TrimPrefix(linkIn(t, h.waitMail(2)), h.base)
	wantNoLongerValid(t, h, old, "anna@example.com", "unsubscribed")
	if res := h.do("POST", fresh, "", nil); res.status != 200 || !strings.Contains(res.body, "in!") {
		t.Fatalf("new link: %d %s", res.status, res.body)
	}
	if l := h.lead("anna@example.com"); l.Status != "confirmed" || h.suppressed("anna@example.com") {
		t.Fatalf("after the new link: %s, suppressed %v", l.Status, h.suppressed("anna@example.com"))
	}
}

func TestConfirm_PendingLeadThatUnsubscribedIsNotConfirmedByItsLink(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	h.subscribeJSON(signup("anna@example.com"))
	m := h.waitMail(1)
	h.advance(time.Minute)
	h.unsubscribeVia(m) // "I never signed up"
	wantNoLongerValid(t, h, strings.TrimPrefix(linkIn(t, m), h.base), "anna@example.com", "unsubscribed")
}

func TestConfirm_LinkFromBeforeABounceNeverResubscribes(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	ctx := context.Background()
	_, old := confirmAnna(t, h)
	h.advance(time.Hour)
	l := h.lead("anna@example.com")
	var msg int64
	if err := h.db().Get(&msg, `SELECT id FROM messages WHERE lead_id = $1`, l.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.store().Bounce(ctx, msg, &l.ID, "550 5.1.1 no such user", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.advance(time.Hour)
	wantNoLongerValid(t, h, old, "anna@example.com", "bounced")

	h.advance(24 * time.Hour)
	h.subscribeJSON(signup("anna@example.com"))
	if res := h.do("POST", strings.TrimPrefix(linkIn(t, h.waitMail(2)), h.base), "", nil); res.status != 200 {
		t.Fatalf("new link: %d %s", res.status, res.body)
	}
	if l := h.lead("anna@example.com"); l.Status != "confirmed" {
		t.Fatalf("after the new link: %s", l.Status)
	}
}
