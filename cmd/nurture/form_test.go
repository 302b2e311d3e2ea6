package main

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The hosted and embedded forms, through real HTTP: what a person sees and
// what the ledger keeps of it.

func TestSubscribeForm_InvalidInputRerendersWithWhatWasTyped(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	form := url.Values{
		"email": {"anna(at)example.com"}, "first_name": {"Anna"}, "attributes.company": {"Acme GmbH"},
		"source": {"webinar"}, "consent_text": {"Yes, invite me."}, "consent_version": {"w1"},
		"redirect": {"https://www.acme.example/thanks"},
	}
	res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()),
		"Origin", "https://www.acme.example")
	if res.status != 422 {
		t.Fatalf("status %d, want 422:\n%s", res.status, res.body)
	}
	for _, want := range []string{
		`value="anna(at)example.com"`, `value="Anna"`, `value="Acme GmbH"`, `name="consent_version" value="w1"`,
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

// A form may send the person to a thank-you page on its own site (the
// Origin, or the Referer when there is no Origin), on the base URL's host or
// on a host in NURTURE_REDIRECT_HOSTS; any other redirect is ignored, or
// this server would be an open redirect.
func TestSubscribeForm_RedirectsToTheFormsThankYouPage(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_REDIRECT_HOSTS": "shop.acme.example, www.acme.example:8443"})
	form := url.Values{"source": {"webinar"}, "consent_text": {"Yes, invite me."}, "consent_version": {"w1"}}
	n := 0
	post := func(redirect string, hdr ...string) response {
		t.Helper()
		n++
		form.Set("email", "ben"+strconv.Itoa(n)+"@example.com")
		form.Set("redirect", redirect)
		return h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), hdr...)
	}
	allowed := []struct {
		redirect string
		hdr      []string
	}{
		{"https://www.acme.example/thanks?webinar=1", []string{"Origin", "https://www.acme.example"}},
		{"https://WWW.acme.example:443/thanks", []string{"Origin", "https://www.acme.example"}},
		{"https://www.acme.example/thanks", []string{"Referer", "https://www.acme.example/webinar"}},
		{h.base + "/welcome", nil},
		{"https://shop.acme.example/thanks", nil},
		{"https://www.acme.example:8443/thanks", nil},
	}
	for _, tt := range allowed {
		if res := post(tt.redirect, tt.hdr...); res.status != 303 || res.header.Get("Location") != tt.redirect {
			t.Errorf("redirect %q with %v: status %d, Location %q", tt.redirect, tt.hdr, res.status, res.header.Get("Location"))
		}
	}
	h.waitMail(len(allowed))

	// Anything else is ignored: the person gets the hosted "check your
	// inbox" page.
	ignored := []struct {
		redirect string
		hdr      []string
	}{
		{"https://evil.example/", []string{"Origin", "https://www.acme.example"}},
		{"https://www.acme.example/thanks", nil},
		{"https://www.acme.example/thanks", []string{"Origin", "null", "Referer", "https://www.acme.example/"}},
		{"https://www.acme.example/thanks", []string{"Origin", "https://evil.example", "Referer", "https://www.acme.example/"}},
		{"https://www.acme.example.evil.example/", []string{"Origin", "https://www.acme.example"}},
		{"https://www.acme.example@evil.example/", []string{"Origin", "https://www.acme.example"}},
		{"https://shop.acme.example:444/", nil},
		{"javascript:alert(1)", nil},
		{"//evil.example", nil},
		{"/relative", nil},
		{"https://x.example/\r\nSet-Cookie: a=b", []string{"Origin", "https://x.example"}},
	}
	for _, tt := range ignored {
		res := post(tt.redirect, tt.hdr...)
		if res.status != 200 || !strings.Contains(res.body, "Check your inbox") {
			t.Errorf("redirect %q with %v: status %d, Location %q", tt.redirect, tt.hdr, res.status, res.header.Get("Location"))
		}
	}

	// A link to the hosted page cannot plant a redirect either: no form of
	// another site is involved, so only the allowed hosts count.
	page := h.do("GET", "/subscribe?redirect="+url.QueryEscape("https://evil.example/phish"), "", nil, "Referer", "https://evil.example/")
	if page.status != 200 || strings.Contains(page.body, "evil.example") {
		t.Errorf("hosted page carries the redirect: %d\n%s", page.status, page.body)
	}
	page = h.do("GET", "/subscribe?redirect="+url.QueryEscape("https://shop.acme.example/thanks"), "", nil)
	if !strings.Contains(page.body, `name="redirect" value="https://shop.acme.example/thanks"`) {
		t.Errorf("hosted page drops an allowed redirect:\n%s", page.body)
	}
}

// The signup page lets the browser send its URL with the form post, and the
// ledger keeps it as the source URL; pages whose URL holds a token never
// leak it in a Referer.
func TestSubscribeForm_LedgerKeepsThePageAsSourceURL(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	page := h.do("GET", "/subscribe/webinar", "", nil)
	if page.status != 200 || !strings.Contains(page.body, `name="consent_version" value="w1"`) {
		t.Fatalf("signup page: %d\n%s", page.status, page.body)
	}
	if p := page.header.Get("Referrer-Policy"); p != "same-origin" {
		t.Fatalf("signup page Referrer-Policy %q, want same-origin", p)
	}
	form := url.Values{"email": {"dora@example.com"}, "source": {"webinar"}, "consent_text": {"Yes, invite me."}, "consent_version": {"w1"}}
	res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()),
		"Referer", h.base+"/subscribe/webinar")
	if res.status != 200 {
		t.Fatalf("signup: %d %s", res.status, res.body)
	}
	l := h.lead("dora@example.com")
	if len(l.Ledger) != 1 || l.Ledger[0].SourceURL != h.base+"/subscribe/webinar" || l.Ledger[0].Source != "webinar" {
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
	t.Parallel()
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
	for _, want := range []string{`action="https://news.acme.example/nurture/subscribe/webinar"`, "consent_version", "w1", "Yes, invite me.", "website"} {
		if !strings.Contains(body, want) {
			t.Errorf("snippet lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "evil.example") {
		t.Errorf("the snippet took the request's Host:\n%s", body)
	}
}

// formInputs returns the name and value of every input of the page's form,
// as a browser posts them: line breaks as CRLF (checkboxes aside, which the
// page has none of).
func formInputs(t *testing.T, page string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	out := url.Values{}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "input" {
			continue
		}
		var name, value string
		for _, a := range n.Attr {
			switch a.Key {
			case "name":
				name = a.Val
			case "value":
				value = a.Val
			}
		}
		if name != "" {
			out.Add(name, strings.ReplaceAll(value, "\n", "\r\n"))
		}
	}
	return out
}
