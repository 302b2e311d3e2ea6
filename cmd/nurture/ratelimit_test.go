package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSubscribe_RateLimitPerIP(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_RATE_IP": "30"})
	for i := range 30 {
		if res := h.subscribeJSON(signup("office" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.com")); res.status != 202 {
			t.Fatalf("signup %d from a shared office IP refused: %d", i, res.status)
		}
	}
	if res := h.subscribeJSON(signup("one-more@example.com")); res.status != 429 {
		t.Fatalf("31st signup in a minute: %d", res.status)
	}
	h.advance(time.Minute)
	if res := h.subscribeJSON(signup("next-minute@example.com")); res.status != 202 {
		t.Fatalf("after a minute: %d", res.status)
	}
}

func TestSubscribe_RateLimitPerAddress(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_RATE_EMAIL": "3"})
	for range 3 {
		h.subscribeJSON(signup("target@example.com"))
	}
	if res := h.subscribeJSON(signup("target@example.com")); res.status != 429 {
		t.Fatalf("4th signup of one address in an hour: %d", res.status)
	}
}

// One IPv6 subscriber line holds a whole /64: the per-IP limit counts the
// /64, or a bot would take a fresh address for every signup.
func TestSubscribe_RateLimitCountsAnIPv6Slash64AsOneClient(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_RATE_IP": "2", "NURTURE_TRUSTED_PROXIES": "127.0.0.1/32"})
	from := func(ip, email string) int {
		b, _ := json.Marshal(signup(email))
		return h.do("POST", "/api/v1/subscribe", "application/json", bytes.NewReader(b), "X-Forwarded-For", ip).status
	}
	for i, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2"} {
		if got := from(ip, "v6-"+strconv.Itoa(i)+"@example.com"); got != 202 {
			t.Fatalf("signup %d from %s: %d", i, ip, got)
		}
	}
	if got := from("2001:db8:1:2:ffff:ffff:ffff:fffe", "v6-next@example.com"); got != 429 {
		t.Fatalf("a third address in the same /64: %d, want 429", got)
	}
	if got := from("2001:db8:1:3::1", "v6-other@example.com"); got != 202 {
		t.Fatalf("the next /64: %d, want 202", got)
	}
}

func (h *harness) ledgerKinds(email string) map[string]int {
	kinds := map[string]int{}
	for _, e := range h.lead(email).Ledger {
		kinds[e.Kind]++
	}
	return kinds
}

func TestResend_RateLimitedAndLedgerOnlyWhenAMailGoesOut(t *testing.T) {
	t.Parallel()
	h := start(t, nil) // 5 signups an hour per address, 60 a minute per IP
	path := h.expiredLink(t, "frank@example.com")
	statuses := map[int]int{}
	for range 100 {
		res := h.do("POST", path+"/resend", "", nil)
		statuses[res.status]++
		if res.status == 429 {
			if s, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || s < 1 {
				t.Fatalf("429 with Retry-After %q", res.header.Get("Retry-After"))
			}
		}
	}
	// Five an hour for the address, as for its signups.
	if statuses[200] != 5 || statuses[429] != 95 {
		t.Fatalf("100 resends answered %v; want 5 × 200 and 95 × 429", statuses)
	}
	h.waitMail(2)
	if n := countMessages(t, h, "frank@example.com"); n != 2 {
		t.Fatalf("%d mails; want the signup's and one resend", n)
	}
	if kinds := h.ledgerKinds("frank@example.com"); kinds["resend"] != 1 || len(h.lead("frank@example.com").Ledger) != 2 {
		t.Fatalf("ledger %v; want the signup and the one resend that mailed", kinds)
	}
	// A day later the link may mail again, once the limit has refilled.
	h.advance(24 * time.Hour)
	if res := h.do("POST", path+"/resend", "", nil); res.status != 200 {
		t.Fatalf("resend a day later: %d", res.status)
	}
	h.waitMail(3)
	if kinds := h.ledgerKinds("frank@example.com"); kinds["resend"] != 2 {
		t.Fatalf("ledger %v after the second resend", kinds)
	}
}

func TestResend_SharesThePerIPLimitWithSignups(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_RATE_IP": "3"})
	path := h.expiredLink(t, "gina@example.com")
	for i, want := range []int{200, 200, 200, 429} {
		if res := h.do("POST", path+"/resend", "", nil); res.status != want {
			t.Fatalf("resend %d: %d, want %d", i+1, res.status, want)
		}
	}
	if res := h.subscribeJSON(signup("hans@example.com")); res.status != 429 {
		t.Fatalf("signup after the resends: %d", res.status)
	}
}

func TestRetryAfter_Every429And503CarriesIt(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_RATE_IP": "2", "NURTURE_RATE_EMAIL": "1"})
	retry := func(what string, res response, want int) {
		t.Helper()
		got, err := strconv.Atoi(res.header.Get("Retry-After"))
		if err != nil || got < 1 || got > want {
			t.Errorf("%s: %d with Retry-After %q, want 1..%d", what, res.status, res.header.Get("Retry-After"), want)
		}
	}
	// One signup of an address an hour: the next is allowed in an hour.
	h.subscribeJSON(signup("jana@example.com"))
	res := h.subscribeJSON(signup("jana@example.com"))
	if res.status != 429 {
		t.Fatalf("second signup of an address: %d", res.status)
	}
	retry("per-address limit", res, 3600)
	if s, _ := strconv.Atoi(res.header.Get("Retry-After")); s < 3500 {
		t.Errorf("per-address limit: Retry-After %d, want about an hour", s)
	}
	// Two a minute per IP: both signups took them; the next is in 30 s.
	res = h.subscribeJSON(signup("karl@example.com"))
	if res.status != 429 {
		t.Fatalf("third signup from an IP: %d", res.status)
	}
	retry("per-IP limit (JSON)", res, 30)
	form := url.Values{"email": {"lena@example.com"}, "consent_text": {"yes"}, "consent_version": {"1"}}
	page := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if page.status != 429 {
		t.Fatalf("form signup over the limit: %d", page.status)
	}
	retry("per-IP limit (form)", page, 30)

	if _, err := h.db().Exec(`DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	res = h.do("GET", "/readyz", "", nil)
	if res.status != 503 {
		t.Fatalf("readyz: %d", res.status)
	}
	retry("readyz", res, 60)
}
