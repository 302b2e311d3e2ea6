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

// A form may send the person to a thank-you page on its own site (the
// Origin, or the Referer when there is no Origin), on the base URL's host or
// on a host in NURTURE_REDIRECT_HOSTS; any other redirect is ignored, or
// this server would be an open redirect.
func TestSubscribeForm_RedirectsToTheFormsThankYouPage(t *testing.T) {
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

// An embedded form's post that fails on one field shows the hosted page
// again. That page must post everything the first form did: the fields it
// shows, every other field hidden, the first form's consent and its
// redirect, so that correcting the address is all the person has to do.
func TestSubscribeForm_ShownAgainCarriesEverythingTheEmbeddedFormSent(t *testing.T) {
	h := start(t, nil)
	consent := "Yes, send me the e-book and related mail.\nI can unsubscribe at any time."
	first := url.Values{
		"email": {"paula(at)example.com"}, "first_name": {"Paula"}, "attributes.company": {"Acme GmbH"},
		"attributes.job_title": {"CTO"}, "attributes.timezone": {"Europe/Berlin"}, "attributes.size": {"50-99"},
		"source": {"ebook-datensicherheit"}, "source_url": {"https://www.acme.example/ebook"},
		"consent_text": {consent}, "consent_version": {"ebook-v3"},
		"redirect": {"https://www.acme.example/thanks"}, "website": {""},
	}
	res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(first.Encode()),
		"Origin", "https://www.acme.example")
	if res.status != 422 {
		t.Fatalf("status %d, want 422:\n%s", res.status, res.body)
	}
	if strings.Contains(res.body, "Yes, send me the newsletter") {
		t.Error("the page shows its own consent text instead of the one the person was shown")
	}
	if !strings.Contains(res.body, `<p class="consent">Yes, send me the e-book and related mail.`) {
		t.Errorf("the page does not show the form's consent text:\n%s", res.body)
	}
	again := formInputs(t, res.body)
	for k, v := range first {
		if k == "website" {
			continue
		}
		if got := strings.ReplaceAll(again.Get(k), "\r\n", "\n"); got != v[0] {
			t.Errorf("field %s: shown again with %q, want %q", k, got, v[0])
		}
	}
	if n := len(again["website"]); n != 1 || again.Get("website") != "" {
		t.Errorf("honeypot: %q", again["website"])
	}
	for k, v := range again {
		if len(v) != 1 {
			t.Errorf("field %s posted %d times", k, len(v))
		}
	}

	// The person fixes the address and presses the button: the browser
	// posts from this server's page now, yet the signup is the first form's.
	again.Set("email", "paula@example.com")
	res = h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(again.Encode()),
		"Origin", h.base, "Referer", h.base+"/subscribe")
	if res.status != 303 || res.header.Get("Location") != "https://www.acme.example/thanks" {
		t.Fatalf("status %d, Location %q\n%s", res.status, res.header.Get("Location"), res.body)
	}
	l := h.lead("paula@example.com")
	if l.Attrs["job_title"] != "CTO" || l.Attrs["timezone"] != "Europe/Berlin" || l.Attrs["size"] != "50-99" || l.Attrs["company"] != "Acme GmbH" {
		t.Errorf("attributes %v", l.Attrs)
	}
	e := l.Ledger[0]
	if e.ConsentText != consent || e.ConsentVersion != "ebook-v3" || e.Source != "ebook-datensicherheit" || e.SourceURL != "https://www.acme.example/ebook" {
		t.Errorf("ledger entry %+v", e)
	}

	// The redirect's MAC vouches for that redirect only.
	forged := formInputs(t, h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(first.Encode()),
		"Origin", "https://www.acme.example").body)
	forged.Set("email", "quinn@example.com")
	forged.Set("redirect", "https://evil.example/")
	res = h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(forged.Encode()), "Origin", h.base)
	if res.status != 200 || !strings.Contains(res.body, "Check your inbox") {
		t.Fatalf("forged redirect: status %d, Location %q", res.status, res.header.Get("Location"))
	}
}

// A consent the first form did not complete is replaced by the page's own,
// so that what is shown is what is posted and the person can go on; so is a
// refused source.
func TestSubscribeForm_ShownAgainExplainsHiddenFieldsAndShowsItsOwnConsentWhenNoneWasComplete(t *testing.T) {
	h := start(t, nil)
	first := url.Values{
		"email": {"rosa@example.com"}, "source": {"spring campaign"}, "consent_text": {"Yes, mail me."},
	}
	res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(first.Encode()))
	if res.status != 422 {
		t.Fatalf("status %d, want 422:\n%s", res.status, res.body)
	}
	in := formInputs(t, res.body)
	if !strings.HasPrefix(in.Get("consent_text"), "Yes, send me the newsletter") || in.Get("consent_version") != "newsletter-2026-11" ||
		!strings.Contains(res.body, `<p class="consent">Yes, send me the newsletter`) {
		t.Errorf("consent %q %q; want the page's own, shown and posted", in.Get("consent_text"), in.Get("consent_version"))
	}
	if in.Get("source") != "newsletter" {
		t.Errorf("source %q, want the page's own", in.Get("source"))
	}
}

// A source the server refuses, from a link or another site's form, falls
// back to the page's own: the person can always send the form.
func TestSubscribeForm_ARefusedSourceFallsBackToThePagesOwn(t *testing.T) {
	h := start(t, nil)
	page := h.do("GET", "/subscribe?source="+url.QueryEscape("Spring Sale!"), "", nil)
	if page.status != 200 || !strings.Contains(page.body, `name="source" value="newsletter"`) {
		t.Fatalf("signup page with a bad source: %d\n%s", page.status, page.body)
	}
	form := url.Values{"email": {"eva@example.com"}, "source": {"Spring Sale!"}, "consent_text": {"Yes, invite me."}, "consent_version": {"w1"}}
	res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if res.status != 422 || !strings.Contains(res.body, `name="source" value="newsletter"`) || strings.Contains(res.body, "Spring Sale") {
		t.Fatalf("re-shown form: %d\n%s", res.status, res.body)
	}
	form.Set("source", "newsletter") // what the re-shown form posts
	if res := h.do("POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); res.status != 200 {
		t.Fatalf("second post: %d %s", res.status, res.body)
	}
	if l := h.lead("eva@example.com"); l.Source != "newsletter" {
		t.Fatalf("source %q", l.Source)
	}
}
