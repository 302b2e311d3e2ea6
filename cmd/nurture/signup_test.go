package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSubscribe_ResubmittingSendsOneMail(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	for range 5 {
		if res := h.subscribeJSON(signup("bob@example.com")); res.status != 202 {
			t.Fatalf("%d %s", res.status, res.body)
		}
		h.advance(time.Hour)
	}
	h.waitMail(1)
	if n := countMessages(t, h, "bob@example.com"); n != 1 {
		t.Fatalf("%d confirmation mails queued for one address within 24h", n)
	}
	if l := h.lead("bob@example.com"); len(l.Ledger) != 5 {
		t.Fatalf("every signup belongs in the ledger, got %d entries", len(l.Ledger))
	}
	// After the interval a new signup may mail again.
	h.advance(20 * time.Hour)
	h.subscribeJSON(signup("bob@example.com"))
	h.waitMail(2)
}

func TestSubscribe_SameAnswerForNewAndConfirmedAddress(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	h.subscribeJSON(signup("carol@example.com"))
	link := linkIn(t, h.waitMail(1))
	h.do("POST", strings.TrimPrefix(link, h.base), "", nil)
	if h.lead("carol@example.com").Status != "confirmed" {
		t.Fatal("not confirmed")
	}
	h.advance(48 * time.Hour)
	confirmed := h.subscribeJSON(signup("carol@example.com"))
	fresh := h.subscribeJSON(signup("dave@example.com"))
	if confirmed.status != fresh.status || confirmed.body != fresh.body {
		t.Fatalf("answers differ:\n%d %s\n%d %s", confirmed.status, confirmed.body, fresh.status, fresh.body)
	}
	form := url.Values{"email": {"carol@example.com"}, "consent_version": {"w1"}}
	a := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	form.Set("email", "erin@example.com")
	b := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if a.status != b.status || a.body != b.body {
		t.Fatalf("form answers differ:\n%s\n%s", a.body, b.body)
	}
	h.waitMail(3) // dave and erin; carol is not mailed again
	if n := countMessages(t, h, "carol@example.com"); n != 1 {
		t.Fatalf("confirmed address mailed again: %d mails", n)
	}
}

func TestSubscribe_ConcurrentFirstSignupsOfOneAddress(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_RATE_EMAIL": "0"})
	const n = 12
	results := make(chan int, n)
	for range n {
		go func() { results <- h.subscribeJSON(signup("race@example.com")).status }()
	}
	for range n {
		if status := <-results; status != 202 {
			t.Fatalf("a concurrent signup got %d", status)
		}
	}
	if got := countMessages(t, h, "race@example.com"); got != 1 {
		t.Fatalf("%d confirmation mails", got)
	}
	if l := h.lead("race@example.com"); len(l.Ledger) != n {
		t.Fatalf("%d ledger entries for %d signups", len(l.Ledger), n)
	}
}

// A signup is written in one transaction with whoever signed up at the same
// moment (group commit): bytes Postgres refuses in one person's form must be
// refused with that person's 422, never fail the others' batch.
func TestSubscribe_BadBytesInOneFormNeverFailOthersSignups(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_RATE_IP": "0", "NURTURE_RATE_EMAIL": "0"})
	bad := []string{
		"first_name=%ff", "last_name=%c3", "email=%ff%40example.com", "source=web%ffinar",
		"consent_text=Yes%ff", "consent_version=%fe", "attributes.company=%ff", "attributes.%ff=x",
		"first_name=An%00na", "attributes.company=%00",
	}
	base := url.Values{"email": {"bad@example.com"}, "consent_text": {"Yes, invite me."}, "consent_version": {"w1"}}
	const rounds, valid = 4, 16
	type result struct {
		what   string
		status int
		body   string
	}
	results := make(chan result, rounds*(valid+len(bad)))
	for r := range rounds {
		begin := make(chan struct{})
		for i := range valid {
			go func() {
				<-begin
				res := h.subscribeJSON(signup("good" + strconv.Itoa(r) + "-" + strconv.Itoa(i) + "@example.com"))
				results <- result{"valid", res.status, res.body}
			}()
		}
		for _, b := range bad {
			go func() {
				<-begin
				field, _, _ := strings.Cut(b, "=")
				form := url.Values{}
				for k, v := range base {
					if k != field {
						form[k] = v
					}
				}
				res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()+"&"+b))
				results <- result{b, res.status, res.body}
			}()
		}
		close(begin)
	}
	for range rounds * (valid + len(bad)) {
		res := <-results
		switch {
		case res.what == "valid" && res.status != 202:
			t.Errorf("a valid signup got %d: %s", res.status, res.body)
		case res.what != "valid" && res.status != 422:
			t.Errorf("%s: got %d, want 422", res.what, res.status)
		}
	}
	var n int
	if err := h.db().Get(&n, `SELECT count(*) FROM leads`); err != nil {
		t.Fatal(err)
	}
	if n != rounds*valid {
		t.Fatalf("%d leads, want %d", n, rounds*valid)
	}
}

// The ledger records who consented. X-Forwarded-For is believed only from a
// proxy in NURTURE_TRUSTED_PROXIES (the harness's client is 127.0.0.1);
// from anyone else it is the client's own claim, and the socket's address
// is recorded.
func TestSubscribe_LedgerIPBelievesXForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, trusted, xff, want string
	}{
		{"no proxy trusted", "", "203.0.113.7", "127.0.0.1"},
		{"another proxy trusted", "10.0.0.0/8", "203.0.113.7", "127.0.0.1"},
		{"through a trusted proxy", "127.0.0.1/32", "203.0.113.7", "203.0.113.7"},
		// The client may send its own header; the proxy appends the address
		// it saw, and only the rightmost untrusted hop counts.
		{"a forged hop before the proxy's", "127.0.0.1/32, 10.0.0.0/8", "198.51.100.1, 203.0.113.7, 10.1.2.3", "203.0.113.7"},
		{"an IPv6 client", "127.0.0.0/8", "2001:db8::7", "2001:db8::7"},
		{"a hop that is no address", "127.0.0.1/32", "203.0.113.7, nonsense", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, map[string]string{"NURTURE_TRUSTED_PROXIES": tt.trusted})
			b, _ := json.Marshal(signup("xff@example.com"))
			res := h.do("POST", "/api/v1/subscribe", "application/json", bytes.NewReader(b), "X-Forwarded-For", tt.xff)
			if res.status != 202 {
				t.Fatalf("%d %s", res.status, res.body)
			}
			if l := h.lead("xff@example.com"); len(l.Ledger) != 1 || l.Ledger[0].IP != tt.want {
				t.Fatalf("ledger %+v, want IP %s", l.Ledger, tt.want)
			}
		})
	}
}

// campaignsBySource has one sequence per signup source, each with a step
// that is not due during a test, so enrolments show which source a lead
// confirmed with.
func campaignsBySource(t *testing.T) string {
	return writeCampaigns(t, map[string]string{
		"ebook/sequence.md":   "---\ntrigger: confirmed\nsources: [ebook-datensicherheit]\n---\n",
		"ebook/01-later.md":   "---\nsubject: Later\ndelay: 30d\n---\nx\n",
		"webinar/sequence.md": "---\ntrigger: confirmed\nsources: [webinar]\n---\n",
		"webinar/01-later.md": "---\nsubject: Later\ndelay: 30d\n---\nx\n",
	})
}

// intruder is someone else submitting Anna's address with data of their own.
func intruder(email string) map[string]any {
	s := signup(email)
	s["first_name"], s["last_name"], s["source"] = "Mallory", "Mayhem", "webinar"
	s["attributes"] = map[string]any{"company": "Other Corp", "job_title": "Intruder"}
	return s
}

func wantAnnasData(t *testing.T, l leadView) {
	t.Helper()
	if l.FirstName != "Anna" || l.LastName != "Schmidt" || l.Source != "ebook-datensicherheit" ||
		l.Attrs["company"] != "Acme GmbH" || l.Attrs["timezone"] != "Europe/Berlin" || l.Attrs["job_title"] != nil {
		t.Fatalf("lead %s holds someone else's data: %s %s, source %q, %v", l.Status, l.FirstName, l.LastName, l.Source, l.Attrs)
	}
}

func TestSubscribe_RepeatSignupNeverChangesTheLead(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": campaignsBySource(t)})
	h.subscribeJSON(signup("anna@example.com"))
	annas := strings.TrimPrefix(linkIn(t, h.waitMail(1)), h.base)

	// Within the interval: no mail, and the pending lead stays Anna's.
	if res := h.subscribeJSON(intruder("anna@example.com")); res.status != 202 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	wantAnnasData(t, h.lead("anna@example.com"))

	// After it: a second link goes to Anna's mailbox, and still nothing changes.
	h.advance(25 * time.Hour)
	h.subscribeJSON(intruder("anna@example.com"))
	theirs := h.waitMail(2)
	if !strings.Contains(theirs.Text, "Mallory") {
		t.Errorf("the second mail does not greet the name its signup gave:\n%s", theirs.Text)
	}
	wantAnnasData(t, h.lead("anna@example.com"))

	// Anna confirms her own link: the lead has her data and her source's sequence.
	if res := h.do("POST", annas, "", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	l := h.lead("anna@example.com")
	wantAnnasData(t, l)
	if got := h.sequencesOf(l.ID); len(got) != 1 || got[0] != "ebook" {
		t.Fatalf("enrolled in %v, want [ebook]", got)
	}

	// The other link and a later signup leave the confirmed lead alone.
	if res := h.do("POST", strings.TrimPrefix(linkIn(t, theirs), h.base), "", nil); res.status != 200 || !strings.Contains(res.body, "Already confirmed") {
		t.Fatalf("second link: %d %s", res.status, res.body)
	}
	h.subscribeJSON(intruder("anna@example.com"))
	wantAnnasData(t, h.lead("anna@example.com"))
	if got := h.sequencesOf(l.ID); len(got) != 1 {
		t.Fatalf("enrolled in %v after the other link", got)
	}
}

// The confirmation mail goes from the committing signup straight to the
// relay: it is never claimed from the outbox, and its record is exact.
func TestSignup_ConfirmationMailIsHandedToTheRelay(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	ctx := context.Background()
	waitStarted(t, h.relay())
	if res := h.subscribeJSON(signup("handed@example.com")); res.status != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s", res.status, res.body)
	}
	h.waitMail(1)
	waitFor(t, "the relay to record the mail sent", func() bool { return h.relay().Stats().Sent >= 1 })
	if s := h.relay().Stats(); s.Handed != 1 || s.Sent != 1 {
		t.Fatalf("relay stats %+v, want the one mail handed and sent", s)
	}
	counts, err := h.store().OutboxCounts(ctx)
	if err != nil || len(counts) != 1 || counts[0].Status != "sent" || counts[0].N != 1 || counts[0].Repeats != 0 {
		t.Fatalf("outbox %+v, %v", counts, err)
	}
}

// TestConfirmationMail_TextIsWrappedEvenly checks the plain-text part of a
// confirmation mail whose sender's name is long: no line runs past 72
// characters unless it is one word (the link), and no line breaks before a
// word that would have fit on it.
func TestConfirmationMail_TextIsWrappedEvenly(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_FROM": "The Backup Brief by Nurture Demo GmbH <news@acme.example>"})
	h.subscribeJSON(signup("anna@example.com"))
	m := h.waitMail(1)
	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	if !strings.Contains(strings.Join(strings.Fields(text), " "), "mail from The Backup Brief by Nurture Demo GmbH:") {
		t.Fatalf("unexpected text:\n%s", text)
	}
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		n := utf8.RuneCountInString(line)
		if n > 72 && strings.Contains(line, " ") {
			t.Errorf("line %d has %d characters: %q", i+1, n, line)
		}
		if i+1 < len(lines) && line != "" && lines[i+1] != "" {
			next := strings.Fields(lines[i+1])[0]
			if n+1+utf8.RuneCountInString(next) <= 72 {
				t.Errorf("line %d breaks before %q, which fits:\n%s", i+1, next, text)
			}
		}
	}
	if link := linkIn(t, m); !strings.Contains(text, "\n"+link+"\n") {
		t.Errorf("the link is not on a line of its own:\n%s", text)
	}
}
