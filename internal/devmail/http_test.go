package devmail

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	mail "github.com/wneessen/go-mail"
)

// send delivers n messages over one connection: subjects "Subject 0".. and
// recipients "lead0@example.test"...
func (b bundle) send(t *testing.T, n int) []Message {
	t.Helper()
	before := len(b.srv.Messages())
	var msgs []*mail.Msg
	for i := range n {
		msgs = append(msgs, newMsg(t, "news@acme.test", fmt.Sprintf("lead%d@example.test", i), fmt.Sprintf("Subject %d", i)))
	}
	if err := b.client(t).DialAndSendWithContext(b.ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	got, err := b.srv.WaitFor(b.ctx, before+n)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (b bundle) do(t *testing.T, method, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(b.ctx, method, b.srv.HTTPURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func (b bundle) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, body := b.do(t, "GET", path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

func keys(m map[string]any) string {
	return fmt.Sprint(slices.Sorted(maps.Keys(m)))
}

func TestAPIv2_MessagesHasMailHogShapeNewestFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(t, 3)

	var page struct {
		Total, Count, Start int
		Items               []map[string]any
	}
	b.getJSON(t, "/api/v2/messages?start=0&limit=2", &page)
	if page.Total != 3 || page.Count != 2 || page.Start != 0 || len(page.Items) != 2 {
		t.Fatalf("envelope total=%d count=%d start=%d items=%d", page.Total, page.Count, page.Start, len(page.Items))
	}
	item := page.Items[0]
	if got := keys(item); got != "[Content Created From ID MIME Raw To]" {
		t.Fatalf("item keys %s", got)
	}
	content := item["Content"].(map[string]any)
	if got := keys(content); got != "[Body Headers MIME Size]" {
		t.Fatalf("Content keys %s", got)
	}
	headers := content["Headers"].(map[string]any)
	if subj := headers["Subject"].([]any)[0]; subj != "Subject 2" {
		t.Fatalf("newest first: got %v", subj)
	}
	from := item["From"].(map[string]any)
	if got := keys(from); got != "[Domain Mailbox Params Relays]" || from["Mailbox"] != "news" || from["Domain"] != "acme.test" {
		t.Fatalf("From %v", from)
	}
	raw := item["Raw"].(map[string]any)
	if got := keys(raw); got != "[Data From Helo To]" || raw["From"] != "news@acme.test" || raw["Helo"] != "client.test" {
		t.Fatalf("Raw %v", raw)
	}
	if !strings.Contains(raw["Data"].(string), "Subject: Subject 2") {
		t.Fatalf("Raw.Data %q", raw["Data"])
	}
	mime := item["MIME"].(map[string]any)
	if parts := mime["Parts"].([]any); len(parts) < 2 {
		t.Fatalf("MIME parts %v", parts)
	}

	b.getJSON(t, "/api/v2/messages?start=2&limit=2", &page)
	if page.Total != 3 || page.Count != 1 || page.Start != 2 {
		t.Fatalf("second page total=%d count=%d start=%d", page.Total, page.Count, page.Start)
	}
	for _, start := range []string{"3", "10"} {
		page.Items = nil
		b.getJSON(t, "/api/v2/messages?start="+start, &page)
		if page.Count != 0 || page.Items == nil || page.Total != 3 {
			t.Fatalf("start=%s: count=%d items=%v (want an empty array)", start, page.Count, page.Items)
		}
	}
}

func TestAPIv2_SearchByKind(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(t, 3)
	tests := []struct {
		kind, query string
		want        int
	}{
		{"to", "lead1@", 1},
		{"to", "example.test", 3},
		{"from", "news@acme", 3},
		{"from", "nobody", 0},
		{"containing", "Subject 2", 1},
	}
	for _, tt := range tests {
		var page struct {
			Total, Count int
			Items        []map[string]any
		}
		b.getJSON(t, "/api/v2/search?kind="+tt.kind+"&query="+url.QueryEscape(tt.query), &page)
		if page.Total != tt.want || page.Count != tt.want {
			t.Errorf("%s=%s: total %d count %d, want %d", tt.kind, tt.query, page.Total, page.Count, tt.want)
		}
	}
	var past struct{ Total, Count int }
	b.getJSON(t, "/api/v2/search?kind=to&query=lead1%40&start=1", &past)
	if past.Total != 1 || past.Count != 0 {
		t.Errorf("search past the end: total %d count %d", past.Total, past.Count)
	}
	for _, q := range []string{"?kind=subject&query=x", "?kind=to"} {
		if resp, _ := b.do(t, "GET", "/api/v2/search"+q); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, resp.StatusCode)
		}
	}
}

func TestAPIv1_ListGetDeleteOneDeleteAll(t *testing.T) {
	t.Parallel()
	b := setup(t)
	msgs := b.send(t, 3)
	id := msgs[0].ID

	var list []map[string]any
	b.getJSON(t, "/api/v1/messages", &list)
	if len(list) != 3 || list[2]["ID"] != id {
		t.Fatalf("v1 list has %d items, oldest last want %s", len(list), id)
	}
	var one map[string]any
	b.getJSON(t, "/api/v1/messages/"+id, &one)
	if one["ID"] != id {
		t.Fatalf("v1 message %v", one["ID"])
	}
	resp, body := b.do(t, "GET", "/api/v1/messages/"+id+"/download")
	if resp.StatusCode != 200 || string(body) != string(msgs[0].Raw) {
		t.Fatalf("download: %d, %d bytes", resp.StatusCode, len(body))
	}

	if resp, _ := b.do(t, "DELETE", "/api/v1/messages/"+id); resp.StatusCode != http.StatusOK {
		t.Fatalf("delete one: %d", resp.StatusCode)
	}
	if resp, _ := b.do(t, "GET", "/api/v1/messages/"+id); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted message: %d, want 404", resp.StatusCode)
	}
	if resp, _ := b.do(t, "DELETE", "/api/v1/messages/"+id); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("delete again: %d, want 404", resp.StatusCode)
	}
	if n := len(b.srv.Messages()); n != 2 {
		t.Fatalf("%d messages left, want 2", n)
	}
	if resp, _ := b.do(t, "DELETE", "/api/v1/messages"); resp.StatusCode != http.StatusOK {
		t.Fatalf("delete all: %d", resp.StatusCode)
	}
	b.getJSON(t, "/api/v1/messages", &list)
	if len(list) != 0 || len(b.srv.Messages()) != 0 {
		t.Fatalf("%d messages after delete all", len(list))
	}
}

func TestUI_ListsAndShowsMessages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	msgs := b.send(t, 2)
	id := msgs[1].ID

	resp, body := b.do(t, "GET", "/")
	page := string(body)
	if resp.StatusCode != 200 || !strings.Contains(page, "Subject 1") || !strings.Contains(page, "lead0@example.test") {
		t.Fatalf("index: %d\n%s", resp.StatusCode, page)
	}
	if strings.Index(page, "Subject 1") > strings.Index(page, "Subject 0") {
		t.Error("index is not newest first")
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Error("index has no CSP")
	}

	resp, body = b.do(t, "GET", "/messages/"+id)
	page = string(body)
	if resp.StatusCode != 200 || !strings.Contains(page, `sandbox="allow-popups allow-popups-to-escape-sandbox"`) ||
		!strings.Contains(page, "/messages/"+id+"/html") {
		t.Fatalf("message page (HTML tab): %d\n%s", resp.StatusCode, page)
	}
	for tab, want := range map[string]string{
		"text":    `<a href="https://nurture.test/confirm?t=abc"`,
		"raw":     "Content-Type: multipart/alternative",
		"headers": "Message-Id",
	} {
		_, body := b.do(t, "GET", "/messages/"+id+"?tab="+tab)
		if !strings.Contains(string(body), want) {
			t.Errorf("tab %s lacks %q", tab, want)
		}
	}

	resp, body = b.do(t, "GET", "/messages/"+id+"/html")
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("HTML part CSP %q", csp)
	}
	if !strings.Contains(string(body), "<b>Subject 1</b>") || !strings.Contains(string(body), `<base target="_blank">`) {
		t.Errorf("HTML part %s", body)
	}
	if resp, _ := b.do(t, "GET", "/messages/nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown message: %d", resp.StatusCode)
	}
}

func TestUI_DeleteButtons(t *testing.T) {
	t.Parallel()
	b := setup(t)
	msgs := b.send(t, 3)
	resp, _ := b.do(t, "POST", "/messages/"+msgs[0].ID+"/delete")
	if resp.StatusCode != http.StatusSeeOther || len(b.srv.Messages()) != 2 {
		t.Fatalf("delete one: %d, %d left", resp.StatusCode, len(b.srv.Messages()))
	}
	resp, _ = b.do(t, "POST", "/messages/delete")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || len(b.srv.Messages()) != 0 {
		t.Fatalf("delete all: %d, %d left", resp.StatusCode, len(b.srv.Messages()))
	}
}

func TestUI_CrossSiteDeleteRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(t, 1)
	resp, _ := b.do(t, "POST", "/messages/delete", "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden || len(b.srv.Messages()) != 1 {
		t.Fatalf("cross-site delete all: %d, %d left", resp.StatusCode, len(b.srv.Messages()))
	}
	resp, _ = b.do(t, "DELETE", "/api/v1/messages", "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden || len(b.srv.Messages()) != 1 {
		t.Fatalf("cross-origin API delete: %d, %d left", resp.StatusCode, len(b.srv.Messages()))
	}
}

func TestUI_TextViewLinksStopWhereTheAddressEnds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := newMsg(t, "news@acme.test", "lead@example.test", "Links")
	m.SetBodyString(mail.TypeTextPlain, strings.Join([]string{
		"Run the restore drill (https://example.com/guides/restore-drill) this week.",
		"See https://example.com/checklist. Or https://example.com/a, https://example.com/b!",
		"[Docs](https://example.com/docs) and \"https://example.com/q?x=1&y=2\"",
		"Kept: https://en.wikipedia.org/wiki/Backup_(disambiguation) and (https://example.com/x_(y)).",
	}, "\n"))
	if err := b.client(t).DialAndSendWithContext(b.ctx, m); err != nil {
		t.Fatal(err)
	}
	msgs, err := b.srv.WaitFor(b.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, body := b.do(t, "GET", "/messages/"+msgs[0].ID+"?tab=text")
	hrefs := regexp.MustCompile(`<a href="([^"]*)" target="_blank"[^>]*>([^<]*)</a>`).FindAllStringSubmatch(string(body), -1)
	// html/template writes brackets in an href escaped, as %28 and %29.
	parens := strings.NewReplacer("%28", "(", "%29", ")")
	var got []string
	for _, h := range hrefs {
		href := parens.Replace(html.UnescapeString(h[1]))
		if shown := html.UnescapeString(h[2]); href != shown {
			t.Errorf("link %q shows %q", href, shown)
		}
		got = append(got, href)
	}
	want := []string{
		"https://example.com/guides/restore-drill",
		"https://example.com/checklist", "https://example.com/a", "https://example.com/b",
		"https://example.com/docs", "https://example.com/q?x=1&y=2",
		"https://en.wikipedia.org/wiki/Backup_(disambiguation)", "https://example.com/x_(y)",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("links in the text view:\n got %q\nwant %q", got, want)
	}
	if !strings.Contains(string(body), "restore-drill</a>) this week.") {
		t.Errorf("the text after a link is lost:\n%s", body)
	}
}
