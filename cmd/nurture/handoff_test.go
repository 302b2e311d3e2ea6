package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/store"
)

const salesToken = "test-sales-token-0123456789"

// salesCampaigns is a campaigns folder with a scoring.yaml whose handoff
// section routes to two owners, and a sequence that starts on recycled.
func salesCampaigns(t *testing.T) string {
	return writeCampaigns(t, map[string]string{
		"scoring.yaml": `mql: score >= 60
points:
  open: 1
handoff:
  reject_reasons: [no_budget, bad_fit]
  routes:
    - to: [anna@sales.example, ben@sales.example]
  digest: "CRON_TZ=UTC 0 8 * * 1-5"
`,
		"winback/sequence.md": "---\nname: Win back\ntrigger: recycled\nreenroll: true\n---\n",
		"winback/01-hello.md": "---\nsubject: Still thinking it over?\ndelay: 0\n---\nHere is what changed since.\n",
		"forms/ebook.md": "---\ntitle: Free e-book: The Restore Checklist\nsource: ebook-datensicherheit\n" +
			"consent: Yes, send me the checklist and related mail.\nconsent_version: checklist-1\n" +
			"fields:\n  - name: company\n    label: Company name\n---\nThe checklist.\n",
	})
}

func startSales(t *testing.T) *harness {
	return start(t, map[string]string{"NURTURE_CAMPAIGNS": salesCampaigns(t), "NURTURE_SALES_TOKEN": salesToken, "NURTURE_TICK": "20ms"})
}

// storyOf writes what tracking and scoring would have recorded of a lead:
// a mail with two links, its open, a click on one, a click a scanner made,
// a download, a page view, a demo request and the score ledger.
func storyOf(t *testing.T, h *harness, id int64) {
	t.Helper()
	at := h.clock.Now().Add(-48 * time.Hour)
	var set, msg int64
	db := h.db()
	if err := db.Get(&set, `INSERT INTO link_sets (digest, links) VALUES (sha256('story'), $1) RETURNING id`,
		`[{"url":"https://acme.example/blog","text":"Read the blog"},{"url":"https://acme.example/pricing","text":"See pricing"}]`); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&msg, `INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key, link_set_id)
		VALUES ('step', $1, '<story@acme.example>', 'news@acme.example', 'anna@example.com', 'sent', $2, $2, $2, 'ebook/02-restore-check', $3) RETURNING id`, id, at, set); err != nil {
		t.Fatal(err)
	}
	// The mail as it went out: its subject, not its step, names it.
	if _, err := db.Exec(`INSERT INTO message_raw (message_id, raw) VALUES ($1, convert_to($2, 'UTF8'))`, msg,
		"From: news@acme.example\r\nSubject: =?UTF-8?q?Pr=C3=BCfen_Sie_die_Wiederherstellung?=\r\n\r\nSubject: not this\r\n"); err != nil {
		t.Fatal(err)
	}
	events := []struct {
		typ, source, url, verdict string
		link                      *int
		mins                      int
	}{
		{"open", "pixel", "", "human", nil, 10},
		{"click", "click", "", "human", ptr(2), 11},
		{"click", "click", "", "scanner", ptr(1), 12},
		{"download", "api", "https://acme.example/playbook.pdf", "human", nil, 60},
		{"page_view", "site", "https://acme.example/pricing/teams", "human", nil, 61},
		{"demo_requested", "api", "", "human", nil, 90},
	}
	for _, e := range events {
		var m *int64
		if e.source == "pixel" || e.source == "click" {
			m = &msg
		}
		if _, err := db.Exec(`INSERT INTO events (lead_id, type, url, at, source, message_id, link, verdict)
			VALUES ($1, $2, NULLIF($3, ''), $4, $5, $6, $7, $8)`, id, e.typ, e.url, at.Add(time.Duration(e.mins)*time.Minute), e.source, m, e.link, e.verdict); err != nil {
			t.Fatal(err)
		}
	}
	// A mail whose bytes were not kept (the sender had them) takes its
	// step's subject.
	if _, err := db.Exec(`WITH m AS (INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key)
		VALUES ('step', $1, '<leased@acme.example>', 'news@acme.example', 'anna@example.com', 'sent', $2, $2, $2, 'winback/hello') RETURNING id)
		INSERT INTO events (lead_id, type, at, source, message_id, verdict) SELECT $1, 'open', $3, 'pixel', m.id, 'human' FROM m`,
		id, at, at.Add(95*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO score_entries (lead_id, at, kind, rule, signal, note, points) VALUES
		($1, $2, 'fit', 'fit rule 1', '', 'number(attr.company_size) >= 50', 20),
		($1, $2, 'engagement', 'points.events.demo_requested', 'event demo_requested', '', 40),
		($1, $2, 'engagement', 'points.urls', 'click https://acme.example/pricing', '', 15)`, id, at); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE leads SET fit = 20, engagement = 55, score = 75, temperature = 'hot' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
}

func ptr(i int) *int { return &i }

// handOffAnna confirms anna@example.com, gives her a story and hands her
// to owner; it returns her id and the owner's mail (the n-th caught).
func handOffAnna(t *testing.T, h *harness, owner string, n int) (int64, devmail.Message) {
	t.Helper()
	h.confirmAnna(n - 1)
	id := h.lead("anna@example.com").ID
	storyOf(t, h, id)
	ho := store.Handoff{LeadID: id, CreatedAt: h.clock.Now(), Owner: owner, Score: 75, Fit: 20, Engagement: 55}
	if err := h.db().Get(&ho.ID, `INSERT INTO handoffs (lead_id, created_at, route, owner, score, fit, engagement)
		VALUES ($1, $2, 0, $3, 75, 20, 55) RETURNING id`, id, ho.CreatedAt, owner); err != nil {
		t.Fatal(err)
	}
	if err := h.handOff(context.Background(), ho); err != nil {
		t.Fatal(err)
	}
	return id, h.waitMail(n)
}

var actionLink = regexp.MustCompile(`http://[^\s"<>]+/sales/(accept|reject|qualify)/[0-9]+\.[0-9]+\.[A-Za-z0-9_-]+`)

// actionLinks are the action links of a mail's text, by action.
func actionLinks(t *testing.T, h *harness, m devmail.Message) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range actionLink.FindAllStringSubmatch(m.Text, -1) {
		out[l[1]] = strings.TrimPrefix(l[0], h.base)
	}
	if len(out) != 3 {
		t.Fatalf("want accept, reject and qualify links, got %v in:\n%s", out, m.Text)
	}
	return out
}

func TestHandoff_OwnerMailTellsWhoWhyWhatAndConsent(t *testing.T) {
	t.Parallel()
	h := startSales(t)
	_, m := handOffAnna(t, h, "anna@sales.example", 2)
	if len(m.To) != 1 || m.To[0] != "anna@sales.example" {
		t.Fatalf("mail went to %v", m.To)
	}
	if !strings.Contains(m.Subject, "Anna Schmidt") || !strings.Contains(m.Subject, "75") {
		t.Errorf("subject %q", m.Subject)
	}
	for _, part := range []struct{ name, body string }{{"text", m.Text}, {"html", m.HTML}} {
		for _, want := range []string{
			"Anna Schmidt", "anna@example.com", "Acme GmbH", "Company name", "Timezone", "Free e-book: The Restore Checklist", // who
			"number(attr.company_size) &gt;= 50", "+40 event demo_requested", "+15 click https://acme.example/pricing", // why
			"opened the mail “Prüfen Sie die Wiederherstellung”", "See pricing", "https://acme.example/pricing",
			"in the mail “Prüfen Sie die Wiederherstellung”", "opened the mail “Still thinking it over?”",
			"downloaded https://acme.example/playbook.pdf", "viewed the page https://acme.example/pricing/teams",
			"confirmed the address (double opt-in)", "event demo_requested, reported by the API", // what, in time order below
			"Confirmed on", "through Free e-book: The Restore Checklist", "https://www.acme.example/ebook", "consent wording ebook-v3", // consent
			"no_budget, bad_fit", "/sales/accept/", "/sales/reject/", "/sales/qualify/",
		} {
			if part.name == "text" {
				want = strings.ReplaceAll(want, "&gt;", ">")
			} else {
				want = strings.ReplaceAll(want, "+", "&#43;") // as html/template writes it
			}
			if !strings.Contains(part.body, want) {
				t.Errorf("the %s part lacks %q:\n%s", part.name, want, part.body)
			}
		}
		for _, raw := range []string{"ebook/02-restore-check", "winback/hello", "company:", "timezone", ">company<", "through ebook-datensicherheit"} {
			if strings.Contains(part.body, raw) {
				t.Errorf("the %s part shows the internal name %q:\n%s", part.name, raw, part.body)
			}
		}
		if strings.Contains(part.body, "Read the blog") {
			t.Errorf("the %s part lists the scanner's click:\n%s", part.name, part.body)
		}
	}
	if strings.Contains(m.Text, "event confirmed") {
		t.Errorf("the confirmation reads as a bare event:\n%s", m.Text)
	}
	order := []string{"opened the mail", "See pricing", "downloaded", "viewed the page", "event demo_requested"}
	_, did, ok := strings.Cut(m.Text, "WHAT THEY READ AND DID")
	if !ok {
		t.Fatalf("no WHAT THEY READ AND DID section in:\n%s", m.Text)
	}
	last := -1
	for _, w := range order {
		i := strings.Index(did, w)
		if i < 0 {
			t.Errorf("%q is not in what they read and did:\n%s", w, did)
		} else if i < last {
			t.Errorf("%q is out of time order in:\n%s", w, m.Text)
		}
		last = i
	}
}

func stageOf(t *testing.T, h *harness, id int64) (stage string, changes int) {
	t.Helper()
	if err := h.db().QueryRow(`SELECT stage, (SELECT count(*) FROM stage_changes WHERE lead_id = $1) FROM leads WHERE id = $1`, id).Scan(&stage, &changes); err != nil {
		t.Fatal(err)
	}
	return stage, changes
}

func form(h *harness, path, body string) response {
	return h.do("POST", path, "application/x-www-form-urlencoded", strings.NewReader(body))
}

func TestHandoff_LinksGETShowsPOSTActsAcceptThenQualify(t *testing.T) {
	t.Parallel()
	h := startSales(t)
	id, m := handOffAnna(t, h, "anna@sales.example", 2)
	links := actionLinks(t, h, m)
	if res := h.do("GET", links["accept"], "", nil); res.status != 200 || !strings.Contains(res.body, "<form method=\"post\"") {
		t.Fatalf("GET accept: %d %s", res.status, res.body)
	}
	if st, n := stageOf(t, h, id); st != "mql" || n != 1 {
		t.Fatalf("after GET: stage %s, %d changes; want mql, 1", st, n)
	}
	// qualify before accept is the wrong step: the page says so and links
	// to accepting, on GET and on POST
	for _, m := range []string{"GET", "POST"} {
		res := h.do(m, links["qualify"], "application/x-www-form-urlencoded", strings.NewReader(""))
		if m == "POST" && res.status != http.StatusConflict || m == "GET" && res.status != 200 ||
			!strings.Contains(res.body, "Accept this lead first: qualifying comes after accepting.") ||
			!strings.Contains(res.body, `/sales/accept/`) || strings.Contains(res.body, "<form") || strings.Contains(res.body, "needs an accepted handoff") {
			t.Fatalf("%s qualify first: %d %s", m, res.status, res.body)
		}
	}
	if res := form(h, links["accept"], ""); res.status != 200 || !strings.Contains(res.body, "sal") {
		t.Fatalf("POST accept: %d %s", res.status, res.body)
	}
	if res := form(h, links["accept"], ""); res.status != http.StatusConflict || !strings.Contains(res.body, "You have accepted this lead already") ||
		!strings.Contains(res.body, "/sales/qualify/") {
		t.Fatalf("accept twice: %d %s", res.status, res.body)
	}
	if res := form(h, links["qualify"], ""); res.status != 200 {
		t.Fatalf("POST qualify: %d %s", res.status, res.body)
	}
	if st, n := stageOf(t, h, id); st != "sql" || n != 3 {
		t.Fatalf("stage %s, %d changes; want sql, 3", st, n)
	}
	var actors []string
	if err := h.db().Select(&actors, `SELECT from_stage || '>' || to_stage || ' ' || actor FROM stage_changes WHERE lead_id = $1 ORDER BY id`, id); err != nil {
		t.Fatal(err)
	}
	want := "lead>mql scoring,mql>sal anna@sales.example,sal>sql anna@sales.example"
	if strings.Join(actors, ",") != want {
		t.Fatalf("stage ledger %v, want %s", actors, want)
	}
	var status, by string
	if err := h.db().QueryRow(`SELECT status, decided_by FROM handoffs WHERE lead_id = $1`, id).Scan(&status, &by); err != nil {
		t.Fatal(err)
	}
	if status != "qualified" || by != "anna@sales.example" {
		t.Fatalf("handoff %s by %s", status, by)
	}
}

func TestHandoff_TamperedAndExpiredLinksAreRefused(t *testing.T) {
	t.Parallel()
	h := startSales(t)
	id, m := handOffAnna(t, h, "anna@sales.example", 2)
	links := actionLinks(t, h, m)
	acc := links["accept"]
	tampered := []string{
		acc[:len(acc)-2] + flip(acc[len(acc)-2:]),                              // the MAC
		strings.Replace(acc, "/accept/", "/qualify/", 1),                       // another action's path
		regexp.MustCompile(`\.[0-9]+\.`).ReplaceAllString(acc, ".9999999999."), // a later expiry
		"/sales/accept/" + url.PathEscape("1.2.x"),
	}
	for _, p := range tampered {
		if res := h.do("GET", p, "", nil); res.status != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, res.status)
		}
		if res := form(h, p, ""); res.status != http.StatusNotFound {
			t.Errorf("POST %s: %d", p, res.status)
		}
	}
	h.advance(15 * 24 * time.Hour)
	if res := h.do("GET", acc, "", nil); res.status != http.StatusGone {
		t.Errorf("GET expired: %d %s", res.status, res.body)
	}
	if res := form(h, acc, ""); res.status != http.StatusGone {
		t.Errorf("POST expired: %d %s", res.status, res.body)
	}
	if st, n := stageOf(t, h, id); st != "mql" || n != 1 {
		t.Fatalf("stage %s, %d changes; want mql, 1", st, n)
	}
}

func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestHandoff_RejectRecyclesTheLeadIntoARecycledSequence(t *testing.T) {
	t.Parallel()
	h := startSales(t)
	id, m := handOffAnna(t, h, "anna@sales.example", 2)
	links := actionLinks(t, h, m)
	page := h.do("GET", links["reject"], "", nil)
	if page.status != 200 || !strings.Contains(page.body, `<option value="no_budget">`) || !strings.Contains(page.body, `<option value="bad_fit">`) {
		t.Fatalf("GET reject: %d %s", page.status, page.body)
	}
	if res := form(h, links["reject"], "reason=too_expensive"); res.status != http.StatusBadRequest || !strings.Contains(res.body, "no_budget, bad_fit") {
		t.Fatalf("unknown reason: %d %s", res.status, res.body)
	}
	if res := form(h, links["reject"], "reason=no_budget"); res.status != 200 {
		t.Fatalf("POST reject: %d %s", res.status, res.body)
	}
	var v struct {
		Stage    string     `db:"stage"`
		Recycled *time.Time `db:"recycled_at"`
		Status   string     `db:"status"`
		Reason   string     `db:"reason"`
	}
	if err := h.db().Get(&v, `SELECT l.stage, l.recycled_at, h.status, h.reason FROM leads l JOIN handoffs h ON h.lead_id = l.id WHERE l.id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if v.Stage != "lead" || v.Recycled == nil || !v.Recycled.Equal(h.clock.Now()) || v.Status != "rejected" || v.Reason != "no_budget" {
		t.Fatalf("after reject: %+v", v)
	}
	var reason string
	if err := h.db().Get(&reason, `SELECT reason FROM stage_changes WHERE lead_id = $1 AND to_stage = 'lead'`, id); err != nil || reason != "handoff reject: no_budget" {
		t.Fatalf("stage change reason %q, %v", reason, err)
	}
	if got := h.sequencesOf(id); len(got) != 1 || got[0] != "winback" {
		t.Fatalf("enrolments %v, want winback", got)
	}
	w := h.waitMail(3)
	if w.Subject != "Still thinking it over?" || w.To[0] != "anna@example.com" {
		t.Fatalf("third mail %q to %v", w.Subject, w.To)
	}
	// a rejected handoff takes no more actions
	if res := form(h, links["accept"], ""); res.status != http.StatusConflict {
		t.Fatalf("accept after reject: %d %s", res.status, res.body)
	}
}

func TestHandoff_DigestGoesOutOnItsScheduleOncePerOwner(t *testing.T) {
	t.Parallel()
	h := startSales(t) // Monday 2 November 2026, 09:30 UTC
	handOffAnna(t, h, "ben@sales.example", 2)
	ctx := context.Background()
	due := func() int {
		t.Helper()
		n, err := h.digestDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// dueAt sets the clock to at and wants want digests sent; why says
	// what went wrong, with the number sent.
	dueAt := func(at time.Time, want int, why string) {
		t.Helper()
		h.clock.Set(at)
		if n := due(); n != want {
			t.Fatalf(why, n)
		}
	}
	if n := due(); n != 0 {
		t.Fatalf("digest sent %d at 09:30 Monday, before its 08:00 slot", n)
	}
	dueAt(time.Date(2026, 11, 3, 7, 59, 0, 0, time.UTC), 0, "digest sent %d at 07:59")
	dueAt(time.Date(2026, 11, 3, 8, 0, 30, 0, time.UTC), 1, "digest sent to %d owners at 08:00:30, want 1")
	if n := due(); n != 0 {
		t.Fatalf("digest sent again (%d) in the same slot", n)
	}
	m := h.waitMail(3)
	if m.To[0] != "ben@sales.example" || m.Subject != "Your open leads: 1" || !strings.Contains(m.Text, "anna@example.com") || !strings.Contains(m.Text, "/sales/accept/") {
		t.Fatalf("digest %q to %v:\n%s", m.Subject, m.To, m.Text)
	}
	// Wednesday's and Thursday's slots passed with no node looking: only
	// the latest goes out.
	dueAt(time.Date(2026, 11, 6, 8, 0, 30, 0, time.UTC), 1, "Friday's digest went to %d owners")
	dueAt(time.Date(2026, 11, 8, 9, 0, 0, 0, time.UTC), 0, "a digest went out on Sunday (%d)")
	var slots int
	if err := h.db().Get(&slots, `SELECT count(*) FROM handoff_digests`); err != nil || slots != 2 {
		t.Fatalf("%d digest slots, %v", slots, err)
	}
}
