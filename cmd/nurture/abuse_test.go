package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
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
	form := url.Values{"email": {"carol@example.com"}, "consent_text": {"yes"}, "consent_version": {"1"}}
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

func TestPurge_DeletesUnconfirmedAfterRetention(t *testing.T) {
	h := start(t, nil)
	h.subscribeJSON(signup("old@example.com"))
	h.clock.Advance(10 * 24 * time.Hour)
	s := signup("recent@example.com")
	s["source"] = "webinar"
	h.subscribeJSON(s)
	h.subscribeJSON(signup("confirmed@example.com"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, _ := h.mail.WaitFor(ctx, 3)
	for _, m := range msgs {
		if m.To[0] == "confirmed@example.com" {
			h.do("POST", strings.TrimPrefix(linkIn(t, m), h.base), "", nil)
		}
	}

	h.clock.Advance(20*24*time.Hour + time.Minute) // old: 30 days and a minute; recent: 20 days
	n, err := h.app.optin.Purge(ctx)
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if res := h.do("GET", "/api/v1/leads/old@example.com", "", nil, "Authorization", "Bearer "+adminToken); res.status != 404 {
		t.Fatalf("purged lead still there: %d", res.status)
	}
	h.lead("recent@example.com")
	h.lead("confirmed@example.com")
	var left int
	h.app.store.DB().Get(&left, `SELECT count(*) FROM consent_events WHERE email_hash = sha256('old@example.com')`)
	if left != 0 {
		t.Fatalf("purged lead left %d ledger entries", left)
	}
	counts, _ := h.app.store.PurgeCounts(ctx)
	if len(counts) != 1 || counts[0].Source != "ebook-datensicherheit" || counts[0].Purged != 1 {
		t.Fatalf("anonymous counts: %+v", counts)
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
	for _, bad := range []string{adminToken, "Basic " + adminToken, "bearer " + adminToken, "Bearer  " + adminToken, "Bearer"} {
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
	h.waitMail(1)
	if res := h.do("DELETE", "/api/v1/leads/kim@example.com", "", nil, "Authorization", "Bearer "+adminToken); res.status != 204 {
		t.Fatalf("erase: %d %s", res.status, res.body)
	}
	if res := h.do("GET", "/api/v1/leads/kim@example.com", "", nil, "Authorization", "Bearer "+adminToken); res.status != 404 {
		t.Fatalf("erased lead found: %d", res.status)
	}
	var kinds []string
	h.app.store.DB().Select(&kinds, `SELECT kind FROM consent_events WHERE email_hash = sha256('kim@example.com')`)
	if len(kinds) != 1 || kinds[0] != "erasure" {
		t.Fatalf("ledger after erasure: %v", kinds)
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
