package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/nurture/nurture/internal/devmail"
)

func countMessages(t *testing.T, h *harness, email string) int {
	t.Helper()
	var n int
	if err := h.app.store.DB().Get(&n, `SELECT count(*) FROM messages WHERE recipient = $1`, email); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSubscribe_ResubmittingSendsOneMail(t *testing.T) {
	h := start(t, nil)
	for range 5 {
		if res := h.subscribeJSON(signup("bob@example.com")); res.status != 202 {
			t.Fatalf("%d %s", res.status, res.body)
		}
		h.clock.Advance(time.Hour)
	}
	h.waitMail(1)
	if n := countMessages(t, h, "bob@example.com"); n != 1 {
		t.Fatalf("%d confirmation mails queued for one address within 24h", n)
	}
	if l := h.lead("bob@example.com"); len(l.Ledger) != 5 {
		t.Fatalf("every signup belongs in the ledger, got %d entries", len(l.Ledger))
	}
	// After the interval a new signup may mail again.
	h.clock.Advance(20 * time.Hour)
	h.subscribeJSON(signup("bob@example.com"))
	h.waitMail(2)
}

func TestSubscribe_SameAnswerForNewAndConfirmedAddress(t *testing.T) {
	h := start(t, nil)
	h.subscribeJSON(signup("carol@example.com"))
	link := linkIn(t, h.waitMail(1))
	h.do("POST", strings.TrimPrefix(link, h.base), "", nil)
	if h.lead("carol@example.com").Status != "confirmed" {
		t.Fatal("not confirmed")
	}
	h.clock.Advance(48 * time.Hour)
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

func TestConfirm_ExpiredLinkOffersNewMail(t *testing.T) {
	h := start(t, nil)
	h.subscribeJSON(signup("frank@example.com"))
	path := strings.TrimPrefix(linkIn(t, h.waitMail(1)), h.base)
	h.clock.Advance(72*time.Hour + time.Second)

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

func TestSubscribe_CRLFInNameIsRefused(t *testing.T) {
	h := start(t, nil)
	s := signup("henry@example.com")
	s["first_name"] = "Henry\r\nBcc: victim@example.com"
	res := h.subscribeJSON(s)
	if res.status != 422 || !strings.Contains(res.body, `"first_name"`) {
		t.Fatalf("%d %s", res.status, res.body)
	}
	form := url.Values{"email": {"henry@example.com"}, "first_name": {"Henry\nSubject: spam"}, "consent_text": {"yes"}, "consent_version": {"1"}}
	page := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if page.status != 422 || !strings.Contains(page.body, "First name must not contain line breaks") || !strings.Contains(page.body, `value="henry@example.com"`) {
		t.Fatalf("form: %d %s", page.status, page.body)
	}
	if n := countMessages(t, h, "henry@example.com"); n != 0 {
		t.Fatalf("%d mails queued", n)
	}
}

func TestSubscribe_MarkupAndLinksInNameNeverReachTheMail(t *testing.T) {
	h := start(t, nil)
	names := []string{"<b>x</b>", "[win](http://evil.example)", "Visit evil.example now", `<a href="http://evil.example">Anna</a>`}
	for i, name := range names {
		s := signup("ivy" + string(rune('a'+i)) + "@example.com")
		s["first_name"] = name
		if res := h.subscribeJSON(s); res.status != 202 {
			t.Fatalf("%d %s", res.status, res.body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := h.mail.WaitFor(ctx, len(names))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		for _, part := range []string{m.HTML, m.Text, m.Subject} {
			if strings.Contains(part, "evil.example") || strings.Contains(part, "<b>") || strings.Contains(part, "&lt;b&gt;") {
				t.Errorf("name leaked into the mail to %v:\n%s", m.To, part)
			}
		}
	}
}

func TestSubscribe_OversizedBodyIs413(t *testing.T) {
	h := start(t, nil)
	big := `{"email":"a@example.com","first_name":"` + strings.Repeat("x", 70<<10) + `"}`
	// With a Content-Length the limit refuses the request before any handler
	// reads it; without one (chunked), the handler's read stops at the limit.
	// Either way the API answers JSON and the form an HTML page.
	for _, body := range []io.Reader{strings.NewReader(big), io.MultiReader(strings.NewReader(big))} {
		res := h.do("POST", "/api/v1/subscribe", "application/json", body)
		if res.status != 413 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") ||
			!strings.Contains(res.body, `"error": "request body too large"`) {
			t.Fatalf("JSON: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
		}
	}
	form := "email=a%40example.com&first_name=" + strings.Repeat("x", 70<<10)
	if res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form)); res.status != 413 ||
		!strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
		t.Fatalf("form: %d %s", res.status, res.header.Get("Content-Type"))
	}
}

func TestSubscribe_InvalidEmailGetsFieldError(t *testing.T) {
	h := start(t, nil)
	s := signup("not-an-address")
	res := h.subscribeJSON(s)
	if res.status != 422 || !strings.Contains(res.body, `"email": "is not a valid email address"`) {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if res := h.do("POST", "/api/v1/subscribe", "application/json", strings.NewReader(`{"email": "a@example.com",`)); res.status != 400 {
		t.Fatalf("malformed JSON: %d %s", res.status, res.body)
	}
}

// A value of the wrong type is the client's mistake in one field: a 422
// that names it, like any other invalid field.
func TestSubscribe_WrongJSONTypeNamesTheField(t *testing.T) {
	h := start(t, nil)
	tests := []struct{ body, field, msg string }{
		{`{"first_name": 5}`, "first_name", "must be text, not a number"},
		{`{"email": ["a@example.com"]}`, "email", "must be text, not a list"},
		{`{"consent_text": true}`, "consent_text", "must be text, not true or false"},
		{`{"attributes": "Acme"}`, "attributes", "must be an object, not text"},
		{`{"source_url": {}}`, "source_url", "must be text, not an object"},
	}
	for _, tt := range tests {
		res := h.do("POST", "/api/v1/subscribe", "application/json", strings.NewReader(tt.body))
		var got struct {
			Error  string            `json:"error"`
			Fields map[string]string `json:"fields"`
		}
		json.Unmarshal([]byte(res.body), &got)
		if res.status != 422 || got.Fields[tt.field] != tt.msg {
			t.Errorf("%s: %d %s, want 422 with %s: %s", tt.body, res.status, res.body, tt.field, tt.msg)
		}
	}
}

func TestSubscribe_RateLimitPerIP(t *testing.T) {
	h := start(t, map[string]string{"NURTURE_RATE_IP": "30"})
	for i := range 30 {
		if res := h.subscribeJSON(signup("office" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.com")); res.status != 202 {
			t.Fatalf("signup %d from a shared office IP refused: %d", i, res.status)
		}
	}
	if res := h.subscribeJSON(signup("one-more@example.com")); res.status != 429 {
		t.Fatalf("31st signup in a minute: %d", res.status)
	}
	h.clock.Advance(time.Minute)
	if res := h.subscribeJSON(signup("next-minute@example.com")); res.status != 202 {
		t.Fatalf("after a minute: %d", res.status)
	}
}

func TestSubscribe_RateLimitPerAddress(t *testing.T) {
	h := start(t, map[string]string{"NURTURE_RATE_EMAIL": "3"})
	for range 3 {
		h.subscribeJSON(signup("target@example.com"))
	}
	if res := h.subscribeJSON(signup("target@example.com")); res.status != 429 {
		t.Fatalf("4th signup of one address in an hour: %d", res.status)
	}
}

func TestSubscribe_HoneypotDropsSignupQuietly(t *testing.T) {
	h := start(t, nil)
	form := url.Values{"email": {"bot@example.com"}, "website": {"http://spam.example"}, "consent_text": {"yes"}, "consent_version": {"1"}}
	res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if res.status != 200 || !strings.Contains(res.body, "Check your inbox") {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if n := countMessages(t, h, "bot@example.com"); n != 0 {
		t.Fatal("honeypot signup was mailed")
	}
}

func TestPurge_DeletesNeverConfirmedLeadsAfterRetention(t *testing.T) {
	h := start(t, nil)
	ctx := context.Background()
	db := h.app.store.DB()
	mails := 0
	join := func(email, source string) devmail.Message {
		t.Helper()
		s := signup(email)
		s["source"] = source
		if res := h.subscribeJSON(s); res.status != 202 {
			t.Fatalf("%s: %d %s", email, res.status, res.body)
		}
		mails++
		return h.waitMail(mails)
	}
	confirm := func(m devmail.Message) {
		t.Helper()
		if res := h.do("POST", strings.TrimPrefix(linkIn(t, m), h.base), "", nil); res.status != 200 {
			t.Fatalf("confirm: %d %s", res.status, res.body)
		}
	}

	// Day 0.
	join("old@example.com", "ebook-datensicherheit")
	confirm(join("confirmed@example.com", "ebook-datensicherheit"))
	h.unsubscribeVia(join("unsub@example.com", "newsletter")) // before ever confirming
	bounced := join("bounced@example.com", "newsletter")
	var bouncedID, bouncedMail int64
	if err := db.QueryRow(`SELECT lead_id, id FROM messages WHERE recipient = $1`, bounced.To[0]).Scan(&bouncedID, &bouncedMail); err != nil {
		t.Fatal(err)
	}
	if err := h.app.store.Bounce(ctx, bouncedMail, &bouncedID, "550 5.1.1 no such user", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	m := join("left@example.com", "ebook-datensicherheit")
	confirm(m)
	h.unsubscribeVia(m) // confirmed once: its proof stays
	join("again@example.com", "ebook-datensicherheit")
	// Day 10 and day 29: a fresh signup, and a repeat that sends a fresh link.
	h.clock.Advance(10 * 24 * time.Hour)
	join("recent@example.com", "webinar")
	h.clock.Advance(19 * 24 * time.Hour)
	join("again@example.com", "ebook-datensicherheit")

	purge := func(want int64) {
		t.Helper()
		n, err := h.app.optin.Purge(ctx)
		if err != nil || n != want {
			t.Fatalf("purged %d, %v; want %d", n, err, want)
		}
	}
	gone := func(email string) {
		t.Helper()
		if res := h.do("GET", "/api/v1/leads/"+email, "", nil, "Authorization", "Bearer "+adminToken); res.status != 404 {
			t.Errorf("%s still there after the purge: %d", email, res.status)
		}
		var left int
		if err := db.Get(&left, `SELECT count(*) FROM consent_events WHERE email_hash = sha256(convert_to($1, 'UTF8'))`, email); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("%s left %d ledger entries", email, left)
		}
	}

	// Day 30 and a minute: the first signups of old, unsub and bounced are
	// 30 days old, and so are confirmed and left, which confirmed; again's
	// last mail is a day old, recent's 20 days.
	h.clock.Advance(24*time.Hour + time.Minute)
	purge(3)
	for _, email := range []string{"old@example.com", "unsub@example.com", "bounced@example.com"} {
		gone(email)
	}
	for _, email := range []string{"unsub@example.com", "bounced@example.com"} {
		if !h.suppressed(email) {
			t.Errorf("%s is no longer suppressed after the purge", email)
		}
	}
	for _, email := range []string{"confirmed@example.com", "left@example.com", "again@example.com", "recent@example.com"} {
		h.lead(email)
	}

	// Day 59 and two minutes: again's last mail and recent's signup are past the retention too.
	h.clock.Advance(29*24*time.Hour + time.Minute)
	purge(2)
	gone("again@example.com")
	gone("recent@example.com")
	if l := h.lead("confirmed@example.com"); l.Status != "confirmed" || len(l.Ledger) != 2 {
		t.Fatalf("confirmed lead after the purges: %+v", l)
	}
	if l := h.lead("left@example.com"); l.Status != "unsubscribed" || len(l.Ledger) != 3 {
		t.Fatalf("unsubscribed lead after the purges: %+v", l)
	}

	counts, err := h.app.store.PurgeCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range counts {
		got = append(got, c.Day.Format(time.DateOnly)+" "+c.Source+" "+strconv.FormatInt(c.Purged, 10))
	}
	want := "2026-12-02 ebook-datensicherheit 1, 2026-12-02 newsletter 2, 2026-12-31 ebook-datensicherheit 1, 2026-12-31 webinar 1"
	if strings.Join(got, ", ") != want {
		t.Fatalf("anonymous counts:\n%s\nwant\n%s", strings.Join(got, ", "), want)
	}
}

func TestAdmin_LeadLookupNeedsToken(t *testing.T) {
	h := start(t, nil)
	h.subscribeJSON(signup("jack@example.com"))
	if res := h.do("GET", "/api/v1/leads/jack@example.com", "", nil); res.status != 401 {
		t.Fatalf("no token: %d", res.status)
	}
	if res := h.do("GET", "/api/v1/leads/jack@example.com", "", nil, "Authorization", "Bearer wrong"); res.status != 401 {
		t.Fatalf("wrong token: %d", res.status)
	}
	for _, bad := range []string{adminToken, "Basic " + adminToken, "Bearer  " + adminToken, "Bearer"} {
		if res := h.do("GET", "/api/v1/leads/jack@example.com", "", nil, "Authorization", bad); res.status != 401 {
			t.Fatalf("Authorization %q: %d", bad, res.status)
		}
	}
	l := h.lead("jack@example.com")
	byID := h.do("GET", "/api/v1/leads/"+strconv.FormatInt(l.ID, 10), "", nil, "Authorization", "Bearer "+adminToken)
	if byID.status != 200 || !strings.Contains(byID.body, `"company": "Acme GmbH"`) {
		t.Fatalf("by id: %d %s", byID.status, byID.body)
	}
}

func TestAdmin_EraseLeavesOnlyProof(t *testing.T) {
	h := start(t, nil)
	h.subscribeJSON(signup("kim@example.com"))
	if res := h.do("POST", strings.TrimPrefix(linkIn(t, h.waitMail(1)), h.base), "", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	if res := h.do("DELETE", "/api/v1/leads/kim@example.com", "", nil, "Authorization", "Bearer "+adminToken); res.status != 204 {
		t.Fatalf("erase: %d %s", res.status, res.body)
	}
	if res := h.do("GET", "/api/v1/leads/kim@example.com", "", nil, "Authorization", "Bearer "+adminToken); res.status != 404 {
		t.Fatalf("erased lead found: %d", res.status)
	}
	var left []struct {
		Kind           string `db:"kind"`
		ConsentText    string `db:"consent_text"`
		ConsentVersion string `db:"consent_version"`
		Source         string `db:"source"`
	}
	if err := h.app.store.DB().Select(&left, `SELECT kind, consent_text, consent_version, source FROM consent_events WHERE email_hash = sha256('kim@example.com')`); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].Kind != "erasure" {
		t.Fatalf("ledger after erasure: %+v", left)
	}
	// The entry says which consent the erasure withdrew.
	if e := left[0]; e.ConsentText != signup("")["consent_text"] || e.ConsentVersion != "ebook-v3" || e.Source != "ebook-datensicherheit" {
		t.Fatalf("erasure entry: %+v", e)
	}
}

func TestHealth(t *testing.T) {
	h := start(t, nil)
	if res := h.do("GET", "/healthz", "", nil); res.status != 200 {
		t.Fatalf("healthz %d", res.status)
	}
	if res := h.do("GET", "/readyz", "", nil); res.status != 200 || !strings.Contains(res.body, "ready") {
		t.Fatalf("readyz %d %s", res.status, res.body)
	}
}

// A node whose schema is behind the binary is not ready: a load balancer
// must not send it traffic, though the process is up.
func TestReadyz_503WhileMigrationsArePending(t *testing.T) {
	h := start(t, nil)
	if _, err := h.app.store.DB().Exec(`DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	res := h.do("GET", "/readyz", "", nil)
	if res.status != 503 || !strings.Contains(res.body, "database migrations are not current") {
		t.Fatalf("readyz %d %s", res.status, res.body)
	}
	if res := h.do("GET", "/healthz", "", nil); res.status != 200 {
		t.Fatalf("healthz %d", res.status)
	}
}

// The database goes away under a running node: readyz says so.
func TestReadyz_503WhenTheDatabaseIsUnreachable(t *testing.T) {
	h := start(t, nil)
	db := h.app.store.DB()
	var name string
	if err := db.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	// From the server's admin database: no new session may connect to the
	// node's database, and every open one ends.
	u, err := url.Parse(h.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/postgres"
	admin, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`ALTER DATABASE ` + pq.QuoteIdentifier(name) + ` WITH ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
		t.Fatal(err)
	}
	res := h.do("GET", "/readyz", "", nil)
	if res.status != 503 || !strings.Contains(res.body, "database unreachable") {
		t.Fatalf("readyz %d %s", res.status, res.body)
	}
	if res := h.do("GET", "/healthz", "", nil); res.status != 200 {
		t.Fatalf("healthz %d", res.status)
	}
}

func TestSubscribe_ConcurrentFirstSignupsOfOneAddress(t *testing.T) {
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

func (h *harness) sequencesOf(id int64) []string {
	h.t.Helper()
	es, err := h.app.store.EnrolmentsOf(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Sequence)
	}
	return out
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
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": campaignsBySource(t)})
	h.subscribeJSON(signup("anna@example.com"))
	annas := strings.TrimPrefix(linkIn(t, h.waitMail(1)), h.base)

	// Within the interval: no mail, and the pending lead stays Anna's.
	if res := h.subscribeJSON(intruder("anna@example.com")); res.status != 202 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	wantAnnasData(t, h.lead("anna@example.com"))

	// After it: a second link goes to Anna's mailbox, and still nothing changes.
	h.clock.Advance(25 * time.Hour)
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

func TestConfirm_AppliesTheDataOfTheSignupWhoseLinkWasConfirmed(t *testing.T) {
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": campaignsBySource(t)})
	h.subscribeJSON(signup("anna@example.com"))
	h.waitMail(1)
	h.clock.Advance(25 * time.Hour)
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
	h := start(t, nil)
	h.subscribeJSON(intruder("anna@example.com")) // someone else was first
	h.waitMail(1)
	h.clock.Advance(25 * time.Hour)
	h.subscribeJSON(signup("anna@example.com"))
	annas := strings.TrimPrefix(linkIn(t, h.waitMail(2)), h.base)
	h.clock.Advance(72 * time.Hour)

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

// unsubscribeVia follows the one-click List-Unsubscribe URL of a mail.
func (h *harness) unsubscribeVia(m devmail.Message) {
	h.t.Helper()
	u := regexp.MustCompile(`<(http[^>]+)>`).FindStringSubmatch(m.Header.Get("List-Unsubscribe"))
	if u == nil {
		h.t.Fatalf("List-Unsubscribe = %q", m.Header.Get("List-Unsubscribe"))
	}
	res := h.do("POST", strings.TrimPrefix(u[1], h.base), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if res.status != 200 {
		h.t.Fatalf("unsubscribe: %d %s", res.status, res.body)
	}
}

func (h *harness) suppressed(email string) bool {
	h.t.Helper()
	var ok bool
	if err := h.app.store.DB().Get(&ok, `SELECT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = sha256(convert_to($1, 'UTF8')))`, email); err != nil {
		h.t.Fatal(err)
	}
	return ok
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
	h := start(t, nil)
	h.subscribeJSON(signup("anna@example.com"))
	first := h.waitMail(1)
	old := strings.TrimPrefix(linkIn(t, first), h.base)
	if res := h.do("POST", old, "", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	h.clock.Advance(time.Hour)
	h.unsubscribeVia(first)
	h.clock.Advance(time.Hour) // the link is still within its 72 hours
	wantNoLongerValid(t, h, old, "anna@example.com", "unsubscribed")

	// Anna comes back by signing up again; only the new link confirms.
	h.clock.Advance(24 * time.Hour)
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
	h := start(t, nil)
	h.subscribeJSON(signup("anna@example.com"))
	m := h.waitMail(1)
	h.clock.Advance(time.Minute)
	h.unsubscribeVia(m) // "I never signed up"
	wantNoLongerValid(t, h, strings.TrimPrefix(linkIn(t, m), h.base), "anna@example.com", "unsubscribed")
}

func TestConfirm_LinkFromBeforeABounceNeverResubscribes(t *testing.T) {
	h := start(t, nil)
	ctx := context.Background()
	h.subscribeJSON(signup("anna@example.com"))
	m := h.waitMail(1)
	old := strings.TrimPrefix(linkIn(t, m), h.base)
	if res := h.do("POST", old, "", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	h.clock.Advance(time.Hour)
	l := h.lead("anna@example.com")
	var msg int64
	if err := h.app.store.DB().Get(&msg, `SELECT id FROM messages WHERE lead_id = $1`, l.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.app.store.Bounce(ctx, msg, &l.ID, "550 5.1.1 no such user", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	wantNoLongerValid(t, h, old, "anna@example.com", "bounced")

	h.clock.Advance(24 * time.Hour)
	h.subscribeJSON(signup("anna@example.com"))
	if res := h.do("POST", strings.TrimPrefix(linkIn(t, h.waitMail(2)), h.base), "", nil); res.status != 200 {
		t.Fatalf("new link: %d %s", res.status, res.body)
	}
	if l := h.lead("anna@example.com"); l.Status != "confirmed" {
		t.Fatalf("after the new link: %s", l.Status)
	}
}

func TestUnsubscribe_WithdrawsTheLinkOfASignupAfterAnUnsubscribe(t *testing.T) {
	h := start(t, nil)
	h.subscribeJSON(signup("anna@example.com"))
	first := h.waitMail(1)
	h.do("POST", strings.TrimPrefix(linkIn(t, first), h.base), "", nil)
	h.clock.Advance(time.Hour)
	h.unsubscribeVia(first)
	h.clock.Advance(25 * time.Hour)
	again := signup("anna@example.com") // someone signs her up again, on another form
	again["consent_version"], again["source"] = "webinar-v1", "webinar"
	h.subscribeJSON(again)
	second := h.waitMail(2)
	h.clock.Advance(time.Minute)
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
	h := start(t, nil)
	h.subscribeJSON(signup("anna@example.com"))
	m := h.waitMail(1)
	h.do("POST", strings.TrimPrefix(linkIn(t, m), h.base), "", nil)
	later := intruder("anna@example.com") // not mailed: the address is confirmed
	later["consent_version"] = "webinar-v1"
	h.subscribeJSON(later)
	h.clock.Advance(time.Minute)
	h.unsubscribeVia(m)

	l := h.lead("anna@example.com")
	if un := l.Ledger[len(l.Ledger)-1]; un.Kind != "unsubscribe" || un.ConsentVersion != "ebook-v3" || un.Source != "ebook-datensicherheit" {
		t.Fatalf("unsubscribe entry: %+v", un)
	}
}

// A signup is written in one transaction with whoever signed up at the same
// moment (group commit): bytes Postgres refuses in one person's form must be
// refused with that person's 422, never fail the others' batch.
func TestSubscribe_BadBytesInOneFormNeverFailOthersSignups(t *testing.T) {
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
	h.app.store.DB().Get(&n, `SELECT count(*) FROM leads`)
	if n != rounds*valid {
		t.Fatalf("%d leads, want %d", n, rounds*valid)
	}
}

func TestSubscribe_SourceMustBeASlug(t *testing.T) {
	h := start(t, nil)
	s := signup("lena@example.com")
	s["source"] = "Lena Schmidt, lena@example.com"
	if res := h.subscribeJSON(s); res.status != 422 || !strings.Contains(res.body, `"source": "must be a short name`) {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if n := countMessages(t, h, "lena@example.com"); n != 0 {
		t.Fatalf("%d mails queued", n)
	}
}

// One IPv6 subscriber line holds a whole /64: the per-IP limit counts the
// /64, or a bot would take a fresh address for every signup.
func TestSubscribe_RateLimitCountsAnIPv6Slash64AsOneClient(t *testing.T) {
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

// The ledger records who consented. X-Forwarded-For is believed only from a
// proxy in NURTURE_TRUSTED_PROXIES (the harness's client is 127.0.0.1);
// from anyone else it is the client's own claim, and the socket's address
// is recorded.
func TestSubscribe_LedgerIPBelievesXForwardedForOnlyFromTrustedProxies(t *testing.T) {
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
