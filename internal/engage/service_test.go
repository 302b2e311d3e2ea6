package engage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpen_RecordsAHumanOpenWithItsPrefixAndFact(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	m := b.mail(t, id, "welcome/01-hello", start, "https://acme.example/pricing")
	if err := b.svc.Open(b.ctx, b.signer.Open(m), req(start.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	evs := b.events(t, id)
	if len(evs) != 1 || evs[0].Type != "open" || evs[0].Source != "pixel" || evs[0].Verdict != "human" ||
		evs[0].IP != "203.0.113.0/24" || evs[0].UA != browser || evs[0].Reason == "" {
		t.Fatalf("events = %+v", evs)
	}
	b.wantFacts(t, id, "open welcome/01-hello 1")
	if b.recorded.Load() != 1 {
		t.Errorf("Recorded called %d times, want 1", b.recorded.Load())
	}
}

func TestClick_RedirectsToTheStoredLinkAndCountsItsStepAndURL(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	m := b.mail(t, id, "welcome/01-hello", start, "https://acme.example/pricing?plan=pro", "https://www.acme.example/blog")
	for i := range 2 {
		target, err := b.svc.Click(b.ctx, b.signer.Click(m, 1), req(start.Add(time.Duration(i+1)*time.Hour)))
		if err != nil || target != "https://acme.example/pricing?plan=pro" {
			t.Fatalf("Click = %q, %v", target, err)
		}
	}
	target, err := b.svc.Click(b.ctx, b.signer.Click(m, 2), req(start.Add(3*time.Hour)))
	if err != nil || target != "https://www.acme.example/blog?nt="+b.signer.Site(id) {
		t.Fatalf("a click to the site = %q, %v; want the signed lead reference added", target, err)
	}
	// No open fact: conditions count the click fact as the mail's open.
	want := []string{"click welcome/01-hello https://acme.example/pricing?plan=pro 2",
		"click welcome/01-hello https://www.acme.example/blog 1"}
	b.wantFacts(t, id, want...)
	if evs := b.events(t, id); len(evs) != 3 || evs[2].URL != "https://www.acme.example/blog" {
		t.Errorf("events = %+v; the stored url is the link's, without nt", evs)
	}
}

func TestClickAndOpen_TamperedOrUnknownTokensAreUnknown(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	m := b.mail(t, id, "welcome/01-hello", start, "https://acme.example/")
	tok := b.signer.Click(m, 1)
	changed := []byte(tok)
	if changed[5] == 'A' { // one character changed
		changed[5] = 'B'
	} else {
		changed[5] = 'A'
	}
	bad := []string{string(changed),
		b.signer.Click(m, 2),       // no such link
		b.signer.Click(m+1000, 1),  // no such mail
		b.signer.Open(m),           // an open's token is no link
		b.signer.Site(id), "", "x"} // a lead reference is no link
	for _, tk := range bad {
		if target, err := b.svc.Click(b.ctx, tk, req(start.Add(time.Hour))); !errors.Is(err, ErrUnknown) || target != "" {
			t.Errorf("Click(%q) = %q, %v; want ErrUnknown", tk, target, err)
		}
	}
	if err := b.svc.Open(b.ctx, b.signer.Open(m+1000), req(start)); !errors.Is(err, ErrUnknown) {
		t.Errorf("Open of no mail = %v", err)
	}
	if evs := b.events(t, id); len(evs) != 0 {
		t.Errorf("events = %+v, want none", evs)
	}
}

func TestVerdicts_EachKindWithItsReason(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	later := start.Add(time.Hour)
	at := func(r Request, f func(*Request)) Request { f(&r); return r }
	cases := []struct {
		name, verdict, reason string
		open                  bool
		r                     Request
	}{
		{"apple", "apple_mpp", "Mozilla/5.0", true, at(req(later), func(r *Request) { r.UserAgent = "Mozilla/5.0" })},
		{"gmail", "image_proxy", "GoogleImageProxy", true, at(req(later), func(r *Request) {
			r.UserAgent = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
		})},
		{"defender", "scanner", "Microsoft", false, at(req(later), func(r *Request) { r.IP = netip.MustParseAddr("40.107.3.4") })},
		{"head", "prefetch", "HEAD", false, at(req(later), func(r *Request) { r.Method = "HEAD" })},
		{"purpose", "prefetch", "prefetch", true, at(req(later), func(r *Request) { r.Purpose = "prefetch" })},
		{"soon", "scanner", "scan window", false, req(start.Add(5 * time.Second))},
		// The request's own headers, as the web server passes them.
		{"purpose header", "prefetch", "Purpose: prefetch", true, at(req(later), func(r *Request) {
			r.Header, r.Purpose = http.Header{"User-Agent": {browser}, "Purpose": {"prefetch"}}, "prefetch"
		})},
		{"a person's hand", "human", "Sec-Fetch-User", false, at(req(start.Add(5*time.Second)), func(r *Request) {
			r.Header = http.Header{"User-Agent": {browser}, "Sec-Fetch-User": {"?1"}}
		})},
		// The fields take precedence over the headers.
		{"agent field", "scanner", "curl/8.4", false, at(req(later), func(r *Request) {
			r.Header, r.UserAgent = http.Header{"User-Agent": {browser}}, "curl/8.4"
		})},
	}
	for _, c := range cases {
		m := b.mail(t, id, "welcome/"+c.name, start, "https://acme.example/"+c.name)
		var err error
		if c.open {
			err = b.svc.Open(b.ctx, b.signer.Open(m), c.r)
		} else {
			_, err = b.svc.Click(b.ctx, b.signer.Click(m, 1), c.r)
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	evs := b.events(t, id)
	for i, c := range cases {
		if evs[i].Verdict != c.verdict || !strings.Contains(evs[i].Reason, c.reason) {
			t.Errorf("%s: verdict %s (%q), want %s with %q", c.name, evs[i].Verdict, evs[i].Reason, c.verdict, c.reason)
		}
	}
	// Only the image proxy's open and the person's click count.
	b.wantFacts(t, id, "click welcome/a person's hand https://acme.example/a person's hand 1", "open welcome/gmail 1")
}

func TestBurst_ClicksOnTwoLinksWithin2sAreAScannersBothOfThem(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	m := b.mail(t, id, "welcome/01-hello", start, "https://acme.example/a", "https://acme.example/b")
	t0 := start.Add(time.Hour)
	b.click(t, m, 1, t0)
	if got := b.facts(t, id); len(got) != 1 {
		t.Fatalf("after the first click facts = %q, want its click", got)
	}
	b.click(t, m, 2, t0.Add(1500*time.Millisecond))
	evs := b.events(t, id)
	for _, e := range evs {
		if e.Verdict != "scanner" || !strings.Contains(e.Reason, "links of the mail") {
			t.Errorf("event %+v, want a scanner's burst", e)
		}
	}
	// The first click's click and url facts are taken back, and with them
	// the open that its click fact stood for.
	b.wantFacts(t, id)
}

func TestHoneypot_MarksItsBurstAScanners(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	m := b.mail(t, id, "welcome/01-hello", start, "https://acme.example/a")
	t0 := start.Add(time.Hour)
	b.click(t, m, 1, t0)
	target, err := b.svc.Click(b.ctx, b.signer.Honeypot(m), req(t0.Add(time.Second)))
	if err != nil || target != "" {
		t.Fatalf("honeypot = %q, %v", target, err)
	}
	evs := b.events(t, id)
	if len(evs) != 2 || evs[0].Verdict != "scanner" || evs[1].Verdict != "scanner" || evs[1].Type != "honeypot" ||
		!strings.Contains(evs[1].Reason, "honeypot") || !strings.Contains(evs[0].Reason, "burst") {
		t.Errorf("events = %+v", evs)
	}
	// A person's click a minute later is a person's again.
	b.click(t, m, 1, t0.Add(time.Minute))
	if evs := b.events(t, id); evs[2].Verdict != "human" {
		t.Errorf("a later click: %+v", evs[2])
	}
}

func TestBurst_ConcurrentClicksSeeEachOther(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	m := b.mail(t, id, "welcome/01-hello", start, "https://acme.example/a", "https://acme.example/b", "https://acme.example/c")
	t0 := start.Add(time.Hour)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if _, err := b.svc.Click(b.ctx, b.signer.Click(m, i+1), req(t0.Add(time.Duration(i)*300*time.Millisecond))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, e := range b.events(t, id) {
		if e.Verdict != "scanner" {
			t.Errorf("event %+v, want a scanner's", e)
		}
	}
	if got := b.facts(t, id); len(got) > 0 {
		t.Errorf("facts = %q, want none", got)
	}
}

func TestUntracked_LeadWithoutConsentIsNotRecordedButRedirects(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", false)
	m := b.mail(t, id, "welcome/01-hello", start, "https://acme.example/a")
	if err := b.svc.Open(b.ctx, b.signer.Open(m), req(start.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if target, err := b.svc.Click(b.ctx, b.signer.Click(m, 1), req(start.Add(time.Hour))); err != nil || target != "https://acme.example/a" {
		t.Fatalf("Click = %q, %v", target, err)
	}
	if evs := b.events(t, id); len(evs) != 0 {
		t.Errorf("events = %+v", evs)
	}
}

func TestRecord_IdempotencyKeyCountsOnce(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	e := Event{Lead: "Anna@Example.com", Type: "demo_requested", URL: "https://acme.example/demo", IdempotencyKey: "crm-4711"}
	first, err := b.svc.Record(b.ctx, []Event{e})
	if err != nil || len(first) != 1 || first[0].Lead != id || first[0].Duplicate {
		t.Fatalf("Record = %+v, %v", first, err)
	}
	again, err := b.svc.Record(b.ctx, []Event{e, {Lead: fmt.Sprint(id), Type: "page_view", URL: "https://acme.example/p", IdempotencyKey: "v1"},
		{Lead: fmt.Sprint(id), Type: "page_view", URL: "https://acme.example/p", IdempotencyKey: "v1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !again[0].Duplicate || again[0].ID != first[0].ID || again[1].Duplicate || !again[2].Duplicate || again[2].ID != again[1].ID {
		t.Errorf("Record again = %+v", again)
	}
	want := []string{"event demo_requested 1", "event page_view 1", "url https://acme.example/p 1"}
	b.wantFacts(t, id, want...)
	if evs := b.events(t, id); len(evs) != 2 {
		t.Errorf("events = %+v, want 2", evs)
	}
	if !slices.Equal(b.enrolled, []string{"demo_requested", "page_view"}) {
		t.Errorf("OnEvent saw %q", b.enrolled)
	}
}

func TestRecord_BadEventsSayWhichAndRecordNothing(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	ok := Event{Lead: fmt.Sprint(id), Type: "download"}
	cases := []struct {
		e       Event
		unknown bool
	}{
		{Event{Lead: "", Type: "x"}, false},
		{Event{Lead: fmt.Sprint(id), Type: "two words"}, false},
		{Event{Lead: fmt.Sprint(id), Type: "page_view"}, false},
		{Event{Lead: fmt.Sprint(id), Type: "x", URL: "javascript:alert(1)"}, false},
		{Event{Lead: "nobody@example.com", Type: "x"}, true},
		{Event{Lead: "999999", Type: "x"}, true},
	}
	for _, c := range cases {
		_, err := b.svc.Record(b.ctx, []Event{ok, c.e})
		var ee *EventError
		if !errors.As(err, &ee) || ee.Index != 1 || ee.Unknown != c.unknown {
			t.Errorf("Record(%+v) = %v", c.e, err)
		}
	}
	if evs := b.events(t, id); len(evs) != 0 {
		t.Errorf("events = %+v", evs)
	}
}

func TestGroupCommit_ConcurrentOpensShareTransactions(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	m := b.mail(t, id, "welcome/01-hello", start, "https://acme.example/a")
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if err := b.svc.Open(b.ctx, b.signer.Open(m), req(start.Add(time.Hour+time.Duration(i)*time.Millisecond))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st := b.svc.Stats()
	if st.Recorded != 200 || st.Batches >= 200 || st.Lost != 0 {
		t.Errorf("stats = %+v, want 200 recorded in fewer batches", st)
	}
	b.wantFacts(t, id, "open welcome/01-hello 200")
}

func TestDatabaseDown_AKnownLinkStillRedirectsAndTheLossIsCounted(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	m := b.mail(t, id, "welcome/01-hello", start, "https://acme.example/a", "https://acme.example/b")
	b.click(t, m, 1, start.Add(time.Hour))
	// A mail of the same links: its click comes back without them, as the
	// service has them already.
	other := b.lead(t, "ben@example.com", true)
	m2 := b.mail(t, other, "welcome/01-hello", start, "https://acme.example/a", "https://acme.example/b")
	b.click(t, m2, 1, start.Add(time.Hour))
	b.db.Close()
	for _, mail := range []int64{m, m2} {
		target, err := b.svc.Click(b.ctx, b.signer.Click(mail, 2), req(start.Add(2*time.Hour)))
		if err == nil || target != "https://acme.example/b" {
			t.Errorf("Click of mail %d with the database closed = %q, %v; want the target and an error", mail, target, err)
		}
	}
	if err := b.svc.Open(b.ctx, b.signer.Open(m), req(start.Add(2*time.Hour))); err == nil {
		t.Error("Open with the database closed: no error")
	}
	if st := b.svc.Stats(); st.Lost != 3 || st.Recorded != 2 {
		t.Errorf("stats = %+v, want 3 lost", st)
	}
}

// Warm reads the mails sent since its look before last, whichever node
// sent them, so that with the database down a link nobody followed before
// still redirects; a mail sent after the last Warm does not, and its
// click is lost all the same. Each Warm reads again what the one before it
// read, which a mail committed late may have been missing from.
func TestDatabaseDown_ALinkOfAMailWarmReadRedirects(t *testing.T) {
	b := setup(t)
	anna := b.lead(t, "anna@example.com", true)
	first := b.mail(t, anna, "welcome/01-hello", start, "https://acme.example/a", "https://acme.example/b")
	if n, err := b.svc.Warm(b.ctx); err != nil || n != 1 {
		t.Fatalf("first Warm = %d, %v; want the one mail", n, err)
	}
	ben := b.lead(t, "ben@example.com", true)
	second := b.mail(t, ben, "welcome/02-tips", start, "https://acme.example/tips")
	if n, err := b.svc.Warm(b.ctx); err != nil || n != 1 {
		t.Fatalf("second Warm = %d, %v; want the new mail", n, err)
	}
	if n, err := b.svc.Warm(b.ctx); err != nil || n != 1 {
		t.Fatalf("third Warm = %d, %v; want the second's mail read again", n, err)
	}
	cleo := b.lead(t, "cleo@example.com", true)
	late := b.mail(t, cleo, "welcome/01-hello", start, "https://acme.example/a", "https://acme.example/b")
	b.db.Close()
	for _, c := range []struct {
		mail   int64
		link   int
		target string
	}{{first, 2, "https://acme.example/b"}, {second, 1, "https://acme.example/tips"}, {late, 1, ""}} {
		target, err := b.svc.Click(b.ctx, b.signer.Click(c.mail, c.link), req(start.Add(time.Hour)))
		if err == nil || target != c.target {
			t.Errorf("Click of mail %d with the database closed = %q, %v; want %q and an error", c.mail, target, err, c.target)
		}
	}
	if st := b.svc.Stats(); st.Lost != 3 {
		t.Errorf("stats = %+v, want 3 lost", st)
	}
}

func TestDatabaseHanging_OpenGivesUpWhenItsCallerDoes(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	m := b.mail(t, id, "welcome/01-hello", start, "https://acme.example/a")
	lock, err := b.db.BeginTxx(b.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(`LOCK TABLE events IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 200*time.Millisecond)
	defer cancel()
	if err := b.svc.Open(ctx, b.signer.Open(m), req(start.Add(time.Hour))); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open while events is locked = %v, want the caller's deadline", err)
	}
	if st := b.svc.Stats(); st.Lost != 1 {
		t.Errorf("stats = %+v, want 1 lost", st)
	}
	lock.Rollback()
	b.svc.Wait()
	// The batch it was in commits once the lock is gone: lost means not
	// acknowledged, not necessarily not written.
	if evs := b.events(t, id); len(evs) > 1 {
		t.Errorf("events = %+v", evs)
	}
}

// The first click of a mail is written by the statement that reads its
// mail; a second within the burst window is deferred, judged with the
// first, and, on the same link, is a person's too.
func TestDatabaseHanging_ClickAndOpenGiveUpAfterTheirWait(t *testing.T) {
	b := setup(t, func(c *Config) { c.Wait = 100 * time.Millisecond })
	id := b.lead(t, "anna@example.com", true)
	m := b.mail(t, id, "welcome/01-hello", start, "https://acme.example/a")
	b.click(t, m, 1, start.Add(time.Hour)) // the mail's link is known from here on
	lock, err := b.db.BeginTxx(b.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(`LOCK TABLE events IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	target, err := b.svc.Click(b.ctx, b.signer.Click(m, 1), req(start.Add(2*time.Hour)))
	if !errors.Is(err, context.DeadlineExceeded) || target != "https://acme.example/a" {
		t.Errorf("Click while events is locked = %q, %v; want the link and the wait's deadline", target, err)
	}
	if err := b.svc.Open(b.ctx, b.signer.Open(m), req(start.Add(2*time.Hour))); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open while events is locked = %v, want the wait's deadline", err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("the two calls took %s with a wait of 100ms", d)
	}
	if st := b.svc.Stats(); st.Lost != 2 {
		t.Errorf("stats = %+v, want 2 lost", st)
	}
	lock.Rollback()
	b.svc.Wait()
}

func TestClick_ASecondClickOfTheMailIsJudgedWithTheFirst(t *testing.T) {
	b := setup(t)
	id := b.lead(t, "anna@example.com", true)
	m := b.mail(t, id, "welcome/01-hello", start, "https://acme.example/a", "https://acme.example/b")
	t0 := start.Add(time.Hour)
	for i, at := range []time.Time{t0, t0.Add(time.Second)} {
		target, err := b.svc.Click(b.ctx, b.signer.Click(m, 1), req(at))
		if err != nil || target != "https://acme.example/a" {
			t.Fatalf("click %d: %q, %v", i, target, err)
		}
	}
	evs := b.events(t, id)
	if len(evs) != 2 || evs[0].Verdict != "human" || evs[1].Verdict != "human" {
		t.Fatalf("events %+v, want two human clicks", evs)
	}
	b.wantFacts(t, id, "click welcome/01-hello https://acme.example/a 2")
	// A click too soon after delivery is deferred and judged with it.
	soon := b.mail(t, id, "welcome/02-next", t0, "https://acme.example/c")
	b.click(t, soon, 1, t0.Add(5*time.Second))
	if evs := b.events(t, id); len(evs) != 3 || evs[2].Verdict != "scanner" || !strings.Contains(evs[2].Reason, "after delivery") {
		t.Errorf("a click 5s after delivery: %+v", evs[len(evs)-1])
	}
}
