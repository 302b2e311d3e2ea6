package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The hosted and embedded forms, through real HTTP: what a person sees and
// what the ledger keeps of it.

func TestSubscribeForm_InvalidInputRerendersWithWhatWasTyped(t *testing.T) {
	h := start(t, nil)
	form := url.Values{
		"email": {"anna(at)example.com"}, "first_name": {"Anna"}, "attributes.company": {"Acme GmbH"},
		"source": {"webinar"}, "consent_text": {"Yes, invite me."}, "consent_version": {"w1"},
		"redirect": {"https://www.acme.example/thanks"},
	}
	res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if res.status != 422 {
		t.Fatalf("status %d, want 422:\n%s", res.status, res.body)
	}
	for _, want := range []string{
		`value="anna(at)example.com"`, `value="Anna"`, `value="Acme GmbH"`, `name="source" value="webinar"`,
		`name="redirect" value="https://www.acme.example/thanks"`, `aria-invalid="true"`, "not a valid email address",
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("re-rendered form lacks %s", want)
		}
	}
	if n := countMessages(t, h, "anna(at)example.com"); n != 0 {
		t.Fatal("an invalid signup was mailed")
	}
}

func TestSubscribeForm_RedirectsToTheFormsThankYouPage(t *testing.T) {
	h := start(t, nil)
	form := url.Values{
		"email": {"ben@example.com"}, "source": {"webinar"}, "consent_text": {"Yes, invite me."}, "consent_version": {"w1"},
		"redirect": {"https://www.acme.example/thanks?webinar=1"},
	}
	res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if res.status != 303 || res.header.Get("Location") != "https://www.acme.example/thanks?webinar=1" {
		t.Fatalf("status %d, Location %q", res.status, res.header.Get("Location"))
	}
	h.waitMail(1)

	// Anything but an absolute http(s) URL is ignored: the person gets the
	// hosted "check your inbox" page.
	for _, bad := range []string{"javascript:alert(1)", "//evil.example", "/relative", "https://x.example/\r\nSet-Cookie: a=b"} {
		form.Set("email", "carla@example.com")
		form.Set("redirect", bad)
		res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if res.status != 200 || !strings.Contains(res.body, "Check your inbox") {
			t.Errorf("redirect %q: status %d, Location %q", bad, res.status, res.header.Get("Location"))
		}
	}
}

// The signup page lets the browser send its URL with the form post, and the
// ledger keeps it as the source URL; pages whose URL holds a token never
// leak it in a Referer.
func TestSubscribeForm_LedgerKeepsThePageAsSourceURL(t *testing.T) {
	h := start(t, nil)
	page := h.do("GET", "/subscribe?source=webinar", "", nil)
	if page.status != 200 || !strings.Contains(page.body, `name="source" value="webinar"`) {
		t.Fatalf("signup page: %d\n%s", page.status, page.body)
	}
	if p := page.header.Get("Referrer-Policy"); p != "same-origin" {
		t.Fatalf("signup page Referrer-Policy %q, want same-origin", p)
	}
	form := url.Values{"email": {"dora@example.com"}, "source": {"webinar"}, "consent_text": {"Yes, invite me."}, "consent_version": {"w1"}}
	res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()),
		"Referer", h.base+"/subscribe?source=webinar")
	if res.status != 200 {
		t.Fatalf("signup: %d %s", res.status, res.body)
	}
	l := h.lead("dora@example.com")
	if len(l.Ledger) != 1 || l.Ledger[0].SourceURL != h.base+"/subscribe?source=webinar" || l.Ledger[0].Source != "webinar" {
		t.Fatalf("ledger: %+v", l.Ledger)
	}

	link := linkIn(t, h.waitMail(1))
	confirm := h.do("GET", strings.TrimPrefix(link, h.base), "", nil)
	if p := confirm.header.Get("Referrer-Policy"); confirm.status != 200 || p != "no-referrer" {
		t.Fatalf("confirm page: %d, Referrer-Policy %q, want no-referrer", confirm.status, p)
	}
}

// The snippet's form posts to NURTURE_BASE_URL, whatever Host and
// X-Forwarded-Proto the request that fetched it carried.
func TestSubscribeEmbed_SnippetPostsToThisServer(t *testing.T) {
	h := start(t, map[string]string{"NURTURE_BASE_URL": "https://news.acme.example/nurture/"})
	req, err := http.NewRequest("GET", h.base+"/subscribe/embed?source=ebook-datensicherheit", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Proto", "http")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	body := string(b)
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	for _, want := range []string{`action="https://news.acme.example/nurture/subscribe"`, "ebook-datensicherheit", "consent_text", "website"} {
		if !strings.Contains(body, want) {
			t.Errorf("snippet lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "evil.example") {
		t.Errorf("the snippet took the request's Host:\n%s", body)
	}
}
