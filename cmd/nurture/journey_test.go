package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestJourney_SignupConfirmUnsubscribe(t *testing.T) {
	t.Parallel()
	h := start(t, nil)

	// 1. A person subscribes, and the mail arrives.
	res := h.subscribeJSON(signup("Anna.Schmidt@Example.COM"))
	if res.status != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s", res.status, res.body)
	}
	m := h.waitMail(1)
	if m.To[0] != "anna.schmidt@example.com" || m.Subject != "Please confirm your subscription" {
		t.Fatalf("mail to %v subject %q", m.To, m.Subject)
	}
	if m.HTML == "" || m.Text == "" {
		t.Fatal("confirmation mail lacks an HTML or a text part")
	}
	link := linkIn(t, m)
	path := strings.TrimPrefix(link, h.base)

	// 2. A GET on the link shows the page, and the lead is still pending.
	page := h.do("GET", path, "", nil)
	if page.status != 200 || !strings.Contains(page.body, `method="post"`) {
		t.Fatalf("confirm page: %d %s", page.status, page.body)
	}
	if l := h.lead("anna.schmidt@example.com"); l.Status != "pending" {
		t.Fatalf("GET changed the lead to %s", l.Status)
	}

	// 3. A POST confirms the lead, and the ledger holds both entries with every field.
	h.advance(3 * time.Minute)
	res = h.do("POST", path, "application/x-www-form-urlencoded", nil, "User-Agent", "Mozilla/5.0 confirm")
	if res.status != 200 || !strings.Contains(res.body, "You&#39;re in!") && !strings.Contains(res.body, "You're in!") {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	l := h.lead("anna.schmidt@example.com")
	if l.Status != "confirmed" || len(l.Ledger) != 2 {
		t.Fatalf("after confirm: %+v", l)
	}
	su, co := l.Ledger[0], l.Ledger[1]
	if su.Kind != "signup" || su.At != "2026-11-02T09:30:00.000Z" || su.IP != "127.0.0.1" || su.UserAgent != "journey-test/1.0" ||
		su.ConsentText != signup("")["consent_text"] || su.ConsentVersion != "ebook-v3" ||
		su.Source != "ebook-datensicherheit" || su.SourceURL != "https://www.acme.example/ebook" {
		t.Errorf("signup entry: %+v", su)
	}
	if su.Mail != string(m.Raw) {
		t.Errorf("ledger mail differs from the mail SMTP received:\nledger: %q\nsmtp:   %q", su.Mail, m.Raw)
	}
	if co.Kind != "confirmation" || co.At != "2026-11-02T09:33:00.000Z" || co.IP != "127.0.0.1" || co.UserAgent != "Mozilla/5.0 confirm" ||
		co.ConsentText != su.ConsentText || co.ConsentVersion != "ebook-v3" || co.Source != "ebook-datensicherheit" {
		t.Errorf("confirmation entry: %+v", co)
	}
	// The chain of proof: the signup caused this mail, and the confirmation
	// confirmed the link in it.
	if mid := m.Header.Get("Message-Id"); mid == "" || su.MessageID != mid || co.MessageID != mid || co.Mail != "" {
		t.Errorf("mail %q: the signup names %q, the confirmation %q (with the mail attached: %v)", mid, su.MessageID, co.MessageID, co.Mail != "")
	}
	again := h.do("POST", path, "application/x-www-form-urlencoded", nil)
	if again.status != 200 || !strings.Contains(again.body, "Already confirmed") {
		t.Fatalf("second confirm: %d %s", again.status, again.body)
	}
	if n := len(h.lead("anna.schmidt@example.com").Ledger); n != 2 {
		t.Fatalf("second confirm wrote to the ledger: %d entries", n)
	}

	// 4. A one-click POST unsubscribes the address, and it is suppressed.
	if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe-Post = %q", m.Header.Get("List-Unsubscribe-Post"))
	}
	lu := m.Header.Get("List-Unsubscribe")
	unsub := regexp.MustCompile(`<(http[^>]+)>`).FindStringSubmatch(lu)
	if unsub == nil || !strings.Contains(lu, "<mailto:") {
		t.Fatalf("List-Unsubscribe = %q", lu)
	}
	// A mail client posts without cookies, with exactly this body.
	res = h.do("POST", strings.TrimPrefix(unsub[1], h.base), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if res.status != 200 {
		t.Fatalf("one-click unsubscribe: %d %s", res.status, res.body)
	}
	l = h.lead("anna.schmidt@example.com")
	if l.Status != "unsubscribed" || len(l.Ledger) != 3 {
		t.Fatalf("after unsubscribe: %+v", l)
	}
	// The entry says which consent was withdrawn.
	if un := l.Ledger[2]; un.Kind != "unsubscribe" || un.IP != "127.0.0.1" || un.UserAgent != "journey-test/1.0" ||
		un.ConsentText != su.ConsentText || un.ConsentVersion != "ebook-v3" || un.Source != "ebook-datensicherheit" {
		t.Errorf("unsubscribe entry: %+v", un)
	}
	var suppressed bool
	if err := h.db().Get(&suppressed, `SELECT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = sha256('anna.schmidt@example.com'))`); err != nil {
		t.Fatal(err)
	}
	if !suppressed {
		t.Fatal("address not on the suppression list")
	}
}
