package main

import (
	"strings"
	"testing"
	"time"
)

func TestUnsubscribe_WithdrawsTheLinkOfASignupAfterAnUnsubscribe(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	h.subscribeJSON(signup("anna@example.com"))
	first := h.waitMail(1)
	h.do("POST", strings.TrimPrefix(linkIn(t, first), h.base), "", nil)
	h.advance(time.Hour)
	h.unsubscribeVia(first)
	h.advance(25 * time.Hour)
	again := signup("anna@example.com") // someone signs her up again, on another form
	again["consent_version"], again["source"] = "webinar-v1", "webinar"
	h.subscribeJSON(again)
	second := h.waitMail(2)
	h.advance(time.Minute)
	h.unsubscribeVia(second) // and she says no to that, too
	h.unsubscribeVia(second) // a second click withdraws nothing more

	l := h.lead("anna@example.com")
	var kinds []string
	for _, e := range l.Ledger {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, " ") != "signup confirmation unsubscribe signup unsubscribe" {
		t.Fatalf("ledger: %v", kinds)
	}
	if un := l.Ledger[4]; un.ConsentVersion != "webinar-v1" || un.Source != "webinar" {
		t.Errorf("the second unsubscribe names %q from %q, not the consent it withdrew", un.ConsentVersion, un.Source)
	}
	wantNoLongerValid(t, h, strings.TrimPrefix(linkIn(t, second), h.base), "anna@example.com", "unsubscribed")
}

func TestUnsubscribe_NamesTheConfirmedConsentNotALaterSignup(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	h.subscribeJSON(signup("anna@example.com"))
	m := h.waitMail(1)
	h.do("POST", strings.TrimPrefix(linkIn(t, m), h.base), "", nil)
	later := intruder("anna@example.com") // not mailed: the address is confirmed
	later["consent_version"] = "webinar-v1"
	h.subscribeJSON(later)
	h.advance(time.Minute)
	h.unsubscribeVia(m)

	l := h.lead("anna@example.com")
	if un := l.Ledger[len(l.Ledger)-1]; un.Kind != "unsubscribe" || un.ConsentVersion != "ebook-v3" || un.Source != "ebook-datensicherheit" {
		t.Fatalf("unsubscribe entry: %+v", un)
	}
}
