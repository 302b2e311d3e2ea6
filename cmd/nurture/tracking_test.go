package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/tracking"
)

// trackedLead inserts a confirmed lead whose signup agreed to tracking.
func (h *harness) trackedLead(email string) int64 {
	h.t.Helper()
	var id int64
	now := h.clock.Now()
	if err := h.db().Get(&id, `INSERT INTO leads (email, status, created_at, updated_at, confirmed_at, tracking)
		VALUES ($1, 'confirmed', $2, $2, $2, true) RETURNING id`, email, now.Add(-24*time.Hour)); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// sentMail inserts a step mail of the lead delivered at sent, with its
// links in a link set, as the dispatcher records a tracked mail.
func (h *harness) sentMail(leadID int64, step string, sent time.Time, urls ...string) int64 {
	h.t.Helper()
	type link struct {
		URL  string `json:"url"`
		Text string `json:"text"`
	}
	links := make([]link, len(urls))
	for i, u := range urls {
		links[i] = link{u, fmt.Sprintf("link %d", i)}
	}
	js, _ := json.Marshal(links)
	digest := sha256.Sum256(js)
	var set, id int64
	if err := h.db().Get(&set, `INSERT INTO link_sets (digest, links) VALUES ($1, $2)
		ON CONFLICT (digest) DO UPDATE SET digest = EXCLUDED.digest RETURNING id`, digest[:], string(js)); err != nil {
		h.t.Fatal(err)
	}
	if err := h.db().Get(&id, `INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key, link_set_id)
		VALUES ('step', $1, $2, 'news@acme.example', 'lead@example.com', 'sent', $3, $3, $3, $4, $5) RETURNING id`,
		leadID, fmt.Sprintf("<%s.%d@test>", step, leadID), sent, step, set); err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) signer() *tracking.Signer { return tracking.NewSigner(h.cfg.Secret) }

type trackedEvent struct {
	Type, Source, Verdict, Reason string
	URL                           string `db:"url"`
	IPPrefix                      string `db:"ip_prefix"`
}

func (h *harness) eventsOfMail(msg int64) []trackedEvent {
	h.t.Helper()
	var out []trackedEvent
	if err := h.db().Select(&out, `SELECT type, source, verdict, reason, COALESCE(url, '') AS url, ip_prefix
		FROM events WHERE message_id = $1 ORDER BY id`, msg); err != nil {
		h.t.Fatal(err)
	}
	return out
}

func TestTracking_PixelAndClickRedirectToTheOriginalURL(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_SITE_HOSTS": "www.acme.example"})
	id := h.trackedLead("anna@example.com")
	m := h.sentMail(id, "welcome/01-hello", h.clock.Now().Add(-time.Hour), "https://acme.example/pricing?plan=pro#faq", "https://www.acme.example/blog")
	s := h.signer()

	r := h.do("GET", "/o/"+s.Open(m), "", nil)
	if r.status != 200 || r.body != tracking.Pixel || len(r.body) != 43 || r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Type") != "image/gif" {
		t.Fatalf("pixel: %d %q %v", r.status, r.body, r.header)
	}
	r = h.do("GET", "/c/"+s.Click(m, 1), "", nil)
	if r.status != 302 || r.header.Get("Location") != "https://acme.example/pricing?plan=pro#faq" {
		t.Fatalf("click: %d %v", r.status, r.header)
	}
	// A link to the marketer's own site carries the signed lead reference;
	// a minute later, so that the two clicks are no burst.
	h.advance(time.Minute)
	r = h.do("GET", "/c/"+s.Click(m, 2), "", nil)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil || r.status != 302 || loc.Host != "www.acme.example" || loc.Path != "/blog" {
		t.Fatalf("click to the site: %d %v", r.status, r.header)
	}
	if ref, err := s.Parse(loc.Query().Get("nt")); err != nil || ref.Kind != tracking.KindSite || ref.Message != id {
		t.Errorf("nt = %q: %+v, %v; want the lead's signed reference", loc.Query().Get("nt"), ref, err)
	}
	evs := h.eventsOfMail(m)
	if len(evs) != 3 || evs[0].Type != "open" || evs[0].Verdict != "human" || evs[0].IPPrefix != "127.0.0.0/24" ||
		evs[1].Type != "click" || evs[1].Verdict != "human" || evs[1].URL != "https://acme.example/pricing?plan=pro#faq" {
		t.Fatalf("events = %+v", evs)
	}
	var facts []string
	if err := h.db().Select(&facts, `SELECT concat_ws(' ', kind, key, NULLIF(url, ''), count) FROM lead_facts WHERE lead_id = $1 ORDER BY kind, key, url`, id); err != nil {
		t.Fatal(err)
	}
	want := "click welcome/01-hello https://acme.example/pricing?plan=pro#faq 1,click welcome/01-hello https://www.acme.example/blog 1,open welcome/01-hello 1"
	if strings.Join(facts, ",") != want {
		t.Errorf("facts = %q, want %q", facts, want)
	}
}

func TestTracking_TamperedTokenIs404AndNoOpenRedirect(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	id := h.trackedLead("anna@example.com")
	m := h.sentMail(id, "welcome/01-hello", h.clock.Now().Add(-time.Hour), "https://acme.example/pricing")
	tok := h.signer().Click(m, 1)
	tampered := []byte(tok)
	tampered[2] ^= 'A' ^ 'B'
	for _, path := range []string{"/c/" + string(tampered), "/c/" + tracking.NewSigner([]byte(strings.Repeat("x", 32))).Click(m, 1),
		"/c/" + h.signer().Click(m, 2), "/c/https:%2F%2Fevil.example%2F", "/c/" + h.signer().Open(m)} {
		r := h.do("GET", path, "", nil)
		if r.status != 404 || r.header.Get("Location") != "" || !strings.Contains(r.body, "<html") {
			t.Errorf("%s: %d %v", path, r.status, r.header)
		}
	}
	for _, q := range []string{"?url=https://evil.example/", "?next=//evil.example"} {
		r := h.do("GET", "/c/"+tok+q, "", nil)
		if loc := r.header.Get("Location"); r.status != 302 || loc != "https://acme.example/pricing" {
			t.Errorf("%s: %d to %q", q, r.status, loc)
		}
	}
	if r := h.do("GET", "/o/"+string(tampered), "", nil); r.status != 200 || r.body != tracking.Pixel || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("pixel of a bad token: %d %q", r.status, r.body)
	}
	if evs := h.eventsOfMail(m); len(evs) != 2 {
		t.Errorf("events = %+v, want the two real clicks", evs)
	}
}

func TestTracking_EachVerdictKind(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_TRUSTED_PROXIES": "127.0.0.1/32"})
	id := h.trackedLead("anna@example.com")
	s := h.signer()
	hour := h.clock.Now().Add(-time.Hour)
	mail := func(step string, sent time.Time) int64 {
		return h.sentMail(id, step, sent, "https://acme.example/"+step+"/a", "https://acme.example/"+step+"/b")
	}
	check := func(m int64, want ...string) {
		t.Helper()
		evs := h.eventsOfMail(m)
		if len(evs) != len(want) {
			t.Fatalf("mail %d: events %+v, want %q", m, evs, want)
		}
		for i, w := range want {
			if evs[i].Verdict != w || evs[i].Reason == "" {
				t.Errorf("mail %d event %d: %s (%s), want %s", m, i, evs[i].Verdict, evs[i].Reason, w)
			}
		}
	}
	m := mail("mpp", hour)
	h.do("GET", "/o/"+s.Open(m), "", nil, "User-Agent", "Mozilla/5.0")
	check(m, "apple_mpp")

	m = mail("gmail", hour)
	h.do("GET", "/o/"+s.Open(m), "", nil, "User-Agent", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)")
	check(m, "image_proxy")

	m = mail("range", hour)
	h.do("GET", "/c/"+s.Click(m, 1), "", nil, "X-Forwarded-For", "40.107.22.9")
	check(m, "scanner")

	m = mail("burst", hour)
	h.do("GET", "/c/"+s.Click(m, 1), "", nil)
	h.do("GET", "/c/"+s.Click(m, 2), "", nil)
	check(m, "scanner", "scanner")

	m = mail("honeypot", hour)
	h.do("GET", "/c/"+s.Click(m, 1), "", nil)
	if r := h.do("GET", "/c/"+s.Honeypot(m), "", nil); r.status != 204 {
		t.Errorf("honeypot: %d", r.status)
	}
	check(m, "scanner", "scanner")

	m = mail("head", hour)
	h.do("HEAD", "/o/"+s.Open(m), "", nil)
	if r := h.do("HEAD", "/c/"+s.Click(m, 1), "", nil); r.status != 302 {
		t.Errorf("HEAD of a link: %d", r.status)
	}
	h.do("GET", "/c/"+s.Click(m, 1), "", nil, "Sec-Purpose", "prefetch;prerender")
	check(m, "prefetch", "prefetch", "prefetch")

	m = mail("soon", h.clock.Now().Add(-5*time.Second))
	h.do("GET", "/c/"+s.Click(m, 1), "", nil)
	check(m, "scanner")
	if evs := h.eventsOfMail(m); !strings.Contains(evs[0].Reason, "scan window of 30s") {
		t.Errorf("too soon: %q", evs[0].Reason)
	}
}

// NURTURE_BURST_WINDOW sets how far apart two clicks on two links of a
// mail may be and still be a scanner's burst.
func TestTracking_BurstWindowIsASetting(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		window string // "" for the default, 1.5s
		want   string
	}{{"", "human"}, {"5s", "scanner"}} {
		h := start(t, map[string]string{"NURTURE_BURST_WINDOW": tt.window})
		id := h.trackedLead("anna@example.com")
		m := h.sentMail(id, "news", h.clock.Now().Add(-time.Hour), "https://acme.example/a", "https://acme.example/b")
		h.do("GET", "/c/"+h.signer().Click(m, 1), "", nil)
		h.advance(3 * time.Second)
		h.do("GET", "/c/"+h.signer().Click(m, 2), "", nil)
		evs := h.eventsOfMail(m)
		if len(evs) != 2 || evs[0].Verdict != tt.want || evs[1].Verdict != tt.want {
			t.Errorf("window %q: clicks 3 s apart on two links judged %+v, want both %s", tt.window, evs, tt.want)
		}
	}
}

func TestEventsAPI_ARetriedPostCountsOnce(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	id := h.trackedLead("anna@example.com")
	post := func(body string) (int, string) {
		r := h.do("POST", "/api/v1/events", "application/json", strings.NewReader(body), "Authorization", "Bearer "+adminToken)
		return r.status, r.body
	}
	one := `{"lead": "anna@example.com", "type": "demo_requested", "url": "https://acme.example/demo", "at": "2026-11-01T10:00:00Z", "idempotency_key": "crm-4711"}`
	st1, b1 := post(one)
	st2, b2 := post(one)
	if st1 != 201 || st2 != 201 || !strings.Contains(b1, `"duplicate": false`) || !strings.Contains(b2, `"duplicate": true`) {
		t.Fatalf("first %d %s, again %d %s", st1, b1, st2, b2)
	}
	batch := fmt.Sprintf(`[{"lead": %d, "type": "download", "idempotency_key": "dl-1"}, {"lead": "anna@example.com", "type": "page_view", "url": "https://acme.example/p"}, %s]`, id, one)
	if st, b := post(batch); st != 201 || strings.Count(b, `"duplicate": true`) != 1 {
		t.Fatalf("batch: %d %s", st, b)
	}
	if st, _ := post(batch); st != 201 {
		t.Fatalf("batch again: %d", st)
	}
	var n struct{ Demo, Download, Views int }
	if err := h.db().Get(&n, `SELECT count(*) FILTER (WHERE type = 'demo_requested') AS demo,
		count(*) FILTER (WHERE type = 'download') AS download, count(*) FILTER (WHERE type = 'page_view') AS views
		FROM events WHERE lead_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if n.Demo != 1 || n.Download != 1 || n.Views != 2 {
		t.Errorf("events = %+v, want one demo, one download, two views (no key)", n)
	}
	var count int
	if err := h.db().Get(&count, `SELECT count FROM lead_facts WHERE lead_id = $1 AND kind = 'event' AND key = 'demo_requested'`, id); err != nil || count != 1 {
		t.Errorf("demo fact count = %d, %v", count, err)
	}
	for _, bad := range []string{`{"lead": "nobody@example.com", "type": "x"}`, `{"lead": 7}`, `[]`} {
		if st, b := post(bad); st < 400 || st >= 500 {
			t.Errorf("%s: %d %s", bad, st, b)
		}
	}
	r := h.do("POST", fmt.Sprintf("/api/v1/leads/%d/events", id), "application/json", strings.NewReader(`{"type": "webinar_registered", "idempotency_key": "w-1"}`), "Authorization", "Bearer "+adminToken)
	if r.status != 201 || !strings.Contains(r.body, `"enrolled": 0`) {
		t.Errorf("lead event: %d %s", r.status, r.body)
	}
}

// The links of a mail the dispatcher composed lead, through the click
// redirect, exactly where the step's file said: composing and redirecting
// agree on how links are numbered.
func TestTracking_EveryLinkOfASentMailLeadsWhereTheStepSaid(t *testing.T) {
	t.Parallel()
	dir := writeCampaigns(t, map[string]string{
		"ebook/sequence.md": "---\ntrigger: confirmed\n---\n",
		"ebook/01-links.md": "---\nsubject: Three links\ndelay: 0\n---\n" +
			"[The playbook](https://acme.example/playbook.pdf), [pricing](https://acme.example/pricing) " +
			"and [the blog](https://acme.example/blog).\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_TRACKING": "all"})
	h.confirmAnna(1)
	m := h.waitMail(2)
	want := map[string]string{
		"The playbook": "https://acme.example/playbook.pdf",
		"pricing":      "https://acme.example/pricing",
		"the blog":     "https://acme.example/blog",
	}
	anchor := regexp.MustCompile(`<a href="` + regexp.QuoteMeta(h.base) + `(/c/[A-Za-z0-9_-]+)"[^>]*>([^<]+)</a>`)
	found := anchor.FindAllStringSubmatch(m.HTML, -1)
	seen := 0
	for _, a := range found {
		target, ok := want[a[2]]
		if !ok {
			continue
		}
		seen++
		if r := h.do("GET", a[1], "", nil); r.status != 302 || r.header.Get("Location") != target {
			t.Errorf("%q leads to %d %q, want %q", a[2], r.status, r.header.Get("Location"), target)
		}
	}
	if seen != len(want) {
		t.Fatalf("found %d of the %d tracked links in:\n%s", seen, len(want), m.HTML)
	}
}
