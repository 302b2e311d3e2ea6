package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/config"
)

// The shipped e-book story as a person lives it, through the form, the
// real mails at the catcher and their tracked links.

const chromeUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36"

var trackedLink = regexp.MustCompile(`http://[^\s"<>]+/c/[A-Za-z0-9_-]+`)

// signupEbook posts the shipped e-book form as a Head of IT at a company
// of 250 who ticks the tracking box, and confirms the link of the mail.
func (h *harness) signupEbook(t *testing.T, email string) {
	t.Helper()
	form := url.Values{"email": {email}, "first_name": {"Hanna"}, "attributes.company": {"Elbwerk GmbH"},
		"attributes.job_title": {"Head of IT"}, "attributes.company_size": {"250"},
		"consent_version": {"ebook-datensicherheit-2026-11"}, "tracking": {"yes"}, "tracking_version": {"nordwind-tracking-2026-11"}}
	if res := h.do("POST", "/subscribe/ebook-datensicherheit", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); res.status != http.StatusOK {
		t.Fatalf("signup: %d %s", res.status, res.body)
	}
	if res := h.do("POST", strings.TrimPrefix(linkIn(t, h.waitMail(1)), h.base), "application/x-www-form-urlencoded", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
}

func TestStory_TheLinkOfARealMailLeadsWhereTheMailSaid(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": "../../campaigns"})
	h.signupEbook(t, "hanna@elbwerk.example")
	copy := h.waitMail(2)
	if !strings.Contains(copy.Subject, "Your copy") {
		t.Fatalf("second mail is %q, want the e-book", copy.Subject)
	}
	links := trackedLink.FindAllString(copy.HTML, -1)
	if len(links) == 0 {
		t.Fatalf("no tracked link in the e-book mail:\n%s", copy.HTML)
	}
	h.advance(time.Hour) // well past the scan window
	res := h.do("GET", strings.TrimPrefix(links[0], h.base), "", nil, "User-Agent", chromeUA, "Sec-Fetch-User", "?1")
	if res.status != http.StatusFound || res.header.Get("Location") != "https://example.com/downloads/data-security-playbook.pdf" {
		t.Fatalf("the download link: %d to %q; want 302 to the playbook", res.status, res.header.Get("Location"))
	}
	var text string
	if err := h.db().Get(&text, `SELECT link_text FROM events e, LATERAL (SELECT ls.links -> (e.link - 1) ->> 'text' AS link_text
		FROM messages m JOIN link_sets ls ON ls.id = m.link_set_id WHERE m.id = e.message_id) l WHERE e.type = 'click'`); err != nil ||
		text != "Download the playbook (PDF, 38 pages)" {
		t.Errorf("the click names link text %q (%v); want the download link's", text, err)
	}
}

// In the demo mode a day takes ten seconds and the person clicks seconds
// after the mail landed: a click 5 s after delivery from a browser that
// does not send Sec-Fetch-User is a person's, one within the demo's 2 s is
// still a scanner's, and a scan window the operator set stays.
func TestStory_FastModeTakesAClickSecondsAfterDeliveryForAPersons(t *testing.T) {
	t.Parallel()
	get := func(settings map[string]string) config.Source { return func(n string) string { return settings[n] } }
	h := startWith(t, nil, func(c *config.Config) { demoMode(c, get(nil)) })
	if !h.cfg.Fast || h.cfg.ScanWindow != fastScanWindow {
		t.Fatalf("--fast: Fast %v, scan window %v; want the demo's %v", h.cfg.Fast, h.cfg.ScanWindow, fastScanWindow)
	}
	id := h.trackedLead("anna@example.com")
	for _, c := range []struct {
		after   time.Duration
		verdict string
	}{{5 * time.Second, "human"}, {time.Second, "scanner"}} {
		m := h.sentMail(id, fmt.Sprintf("welcome/after-%v", c.after), h.clock.Now().Add(-c.after), "https://acme.example/pricing")
		if res := h.do("GET", "/c/"+h.signer().Click(m, 1), "", nil, "User-Agent", chromeUA); res.status != http.StatusFound {
			t.Fatalf("click: %d", res.status)
		}
		if evs := h.eventsOfMail(m); len(evs) != 1 || evs[0].Verdict != c.verdict {
			t.Errorf("a click %v after delivery: %+v; want %s", c.after, evs, c.verdict)
		}
	}
	var cfg config.Config
	demoMode(&cfg, get(map[string]string{"NURTURE_SCAN_WINDOW": "45s"}))
	if !cfg.Fast || cfg.ScanWindow != 0 {
		t.Errorf("--fast with NURTURE_SCAN_WINDOW set: Fast %v, scan window %v; want the setting's, untouched", cfg.Fast, cfg.ScanWindow)
	}
}

// A reader who asked for a demo is done with the e-book nurture: its
// next mails (the demo invitation among them) are never sent.
func TestStory_ADemoRequestEndsTheEbookNurture(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": "../../campaigns"})
	h.signupEbook(t, "hanna@elbwerk.example")
	h.waitMail(2) // the e-book
	res := h.do("POST", "/api/v1/events", "application/json", strings.NewReader(`{"lead": "hanna@elbwerk.example", "type": "demo_requested"}`),
		"Authorization", "Bearer "+adminToken)
	if res.status != http.StatusCreated {
		t.Fatalf("demo event: %d %s", res.status, res.body)
	}
	h.advance(3 * 24 * time.Hour) // past the restore check's delay, in office hours
	h.wake()
	var state, reason string
	waitFor(t, "the e-book nurture to end", func() bool {
		if err := h.db().QueryRow(`SELECT state, ended_reason FROM enrolments WHERE sequence = 'ebook-datensicherheit'`).Scan(&state, &reason); err != nil {
			t.Fatal(err)
		}
		return state != "active"
	})
	if state != "exited" || !strings.Contains(reason, "demo_requested") {
		t.Errorf("enrolment %s (%q); want exited by the demo request", state, reason)
	}
	if n := countMessages(t, h, "hanna@elbwerk.example"); n != 2 {
		t.Errorf("%d mails to the lead; want the confirmation and the e-book only", n)
	}
}

// The story of the shipped campaigns, whole: a Head of IT who agreed to
// tracking downloads the e-book from its mail, clicks "see our prices" in
// the mail about ransomware costs a week later, and books a demo. The
// clicks score under the shipped scoring.yaml, the demo makes the lead an
// MQL, and the owner's mail tells that story with the links' words.
func TestStory_DownloadPricingAndDemoHandTheReaderToSales(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": "../../campaigns", "NURTURE_TICK": "20ms"})
	const email = "hanna@elbwerk.example"
	h.signupEbook(t, email)
	// click follows the tracked link of a mail's text part whose words
	// start with words, as a person's browser does, and no other: two
	// links of one mail clicked at once would be a scanner's burst.
	click := func(text, words, target string) {
		t.Helper()
		l := regexp.MustCompile(regexp.QuoteMeta(words) + `[^\n]*?\((http://[^\s)]+/c/[A-Za-z0-9_-]+)\)`).FindStringSubmatch(text)
		if l == nil {
			t.Fatalf("no tracked link %q in:\n%s", words, text)
		}
		res := h.do("GET", strings.TrimPrefix(l[1], h.base), "", nil, "User-Agent", chromeUA, "Sec-Fetch-User", "?1")
		if res.status != http.StatusFound || res.header.Get("Location") != target {
			t.Fatalf("%s: %d to %q, want 302 to %s", words, res.status, res.header.Get("Location"), target)
		}
	}
	copy := h.waitMail(2)
	h.advance(time.Hour) // read an hour after it came, past the scan window
	click(copy.Text, "Download the playbook", "https://example.com/downloads/data-security-playbook.pdf")

	var costs string
	for range 14 {
		h.advance(24 * time.Hour)
		h.settle()
		for _, m := range h.mail.Messages() {
			if strings.Contains(m.Subject, "ransomware") {
				costs = m.Text
			}
		}
		if costs != "" {
			break
		}
	}
	if costs == "" {
		t.Fatalf("no mail about ransomware costs in two weeks; the catcher has %d mails", len(h.mail.Messages()))
	}
	h.advance(time.Hour)
	click(costs, "see our prices", "https://example.com/pricing")
	h.advance(time.Minute) // the clicks settle: no burst can mark them now
	if res := h.do("POST", "/api/v1/events", "application/json", strings.NewReader(`{"lead": "`+email+`", "type": "demo_booked"}`),
		"Authorization", "Bearer "+adminToken); res.status != http.StatusCreated {
		t.Fatalf("demo event: %d %s", res.status, res.body)
	}
	var owner string
	waitFor(t, "the owner's mail", func() bool {
		for _, m := range h.mail.Messages() {
			if strings.HasPrefix(m.Subject, "New lead for you") && strings.Contains(m.Subject, email) {
				owner = strings.Join(m.To, ",") + "\n" + m.Text
				return true
			}
		}
		return false
	})
	for _, want := range []string{"sales@example.com\n", "Download the playbook", "see our prices", "demo_booked"} {
		if !strings.Contains(owner, want) {
			t.Errorf("the owner's mail lacks %q:\n%s", want, owner)
		}
	}
	var urls []string
	if err := h.db().Select(&urls, `SELECT signal FROM score_entries s JOIN leads l ON l.id = s.lead_id
		WHERE l.email = $1 AND s.rule = 'points.urls' ORDER BY s.id`, email); err != nil {
		t.Fatal(err)
	}
	if strings.Join(urls, ", ") != "click https://example.com/downloads/data-security-playbook.pdf, click https://example.com/pricing" {
		t.Errorf("url points for %v; want the download and the pricing click", urls)
	}
}
