package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/templates"
)

const privacyURL = "https://www.nordwind.example/privacy"

// exampleForms are the shipped forms, as the server loads them.
func exampleForms(t *testing.T) campaign.Forms {
	t.Helper()
	set, ps := campaign.Load("../../campaigns", templates.FS)
	if set == nil || len(set.Forms) != 2 {
		t.Fatalf("the example campaigns: %v", ps)
	}
	return set.Forms
}

// Each example form shows its own title and consent, and a signup through
// it records exactly that consent and the form's source in the ledger,
// whatever source the link names; the mail it sends links to the privacy
// policy.
func TestForms_EachFormRecordsItsOwnConsent(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": "../../campaigns", "NURTURE_PRIVACY_URL": privacyURL})
	for i, f := range exampleForms(t) {
		email := f.Slug + "@example.com"
		// The link names the other form's source; the form's own is recorded.
		page := h.do("GET", "/subscribe/"+f.Slug+"?source=welcome", "", nil)
		if page.status != 200 {
			t.Fatalf("%s: %d %s", f.Slug, page.status, page.body)
		}
		consentHTML := strings.ReplaceAll(f.ConsentText, `"`, "&#34;")
		for _, want := range []string{"<h1>" + f.Title + "</h1>", consentHTML, `href="` + privacyURL + `"`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("%s: the page lacks %s", f.Slug, want)
			}
		}
		in := formInputs(t, page.body)
		in.Set("email", email)
		in.Set("attributes.company", "Nordlicht Logistik GmbH")
		res := h.do("POST", "/subscribe/"+f.Slug, "application/x-www-form-urlencoded", strings.NewReader(in.Encode()))
		if res.status != 200 {
			t.Fatalf("%s: signup %d %s", f.Slug, res.status, res.body)
		}
		l := h.lead(email)
		if len(l.Ledger) != 1 {
			t.Fatalf("%s: ledger %+v", f.Slug, l.Ledger)
		}
		if e := l.Ledger[0]; e.Source != f.Source || e.ConsentText != f.ConsentText || e.ConsentVersion != f.ConsentVersion || l.Source != f.Source {
			t.Errorf("%s: ledger records %q %q %q, lead source %q; want the form's %q %q %q", f.Slug, e.Source, e.ConsentVersion, e.ConsentText, l.Source, f.Source, f.ConsentVersion, f.ConsentText)
		}
		m := h.waitMail(i + 1)
		if m.To[0] != email || !strings.Contains(m.Text, "Privacy policy: "+privacyURL) || !strings.Contains(m.HTML, `href="`+privacyURL+`"`) {
			t.Errorf("%s: the confirmation mail to %v does not link the privacy policy:\n%s", f.Slug, m.To, m.Text)
		}
	}
	// /subscribe is the default form, the newsletter.
	if res := h.do("GET", "/subscribe", "", nil); res.status != 200 || !strings.Contains(res.body, "newsletter-2026-11") {
		t.Errorf("/subscribe: %d, not the newsletter form", res.status)
	}
	for _, m := range []string{"GET", "POST"} {
		if res := h.do(m, "/subscribe/no-such-form", "application/x-www-form-urlencoded", strings.NewReader("email=x%40example.com")); res.status != 404 ||
			!strings.Contains(res.body, "There is no signup form at this address") {
			t.Errorf("%s an unknown form: %d\n%s", m, res.status, res.body)
		}
	}
}

// A posted source or consent that is not the form's is refused by name,
// recorded nowhere, and logged; the page shown again sends the form's own.
func TestForms_APostCannotRecordAnotherFormsConsent(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": "../../campaigns"})
	forms := exampleForms(t)
	ebook, news := forms.Get("ebook-datensicherheit"), forms.Get("newsletter")
	cases := []struct {
		field string
		form  url.Values
		want  string
	}{
		{"source", url.Values{"source": {news.Source}, "consent_version": {ebook.ConsentVersion}}, `<code>source</code> is &#34;newsletter&#34;, but the form &#34;ebook-datensicherheit&#34; records the source`},
		{"consent_version", url.Values{"consent_version": {news.ConsentVersion}}, `<code>consent_version</code> is &#34;newsletter-2026-11&#34;, but the consent of form &#34;ebook-datensicherheit&#34; is version`},
		{"consent_text", url.Values{"consent_version": {ebook.ConsentVersion}, "consent_text": {news.ConsentText}}, `<code>consent_text</code> differs from the consent of form &#34;ebook-datensicherheit&#34;`},
		{"consent_version", url.Values{}, "<code>consent_version</code> is missing"},
	}
	for _, c := range cases {
		c.form.Set("email", "mallory@example.com")
		c.form.Set("attributes.company", "Acme")
		res := h.do("POST", "/subscribe/ebook-datensicherheit", "application/x-www-form-urlencoded", strings.NewReader(c.form.Encode()))
		if res.status != 422 || !strings.Contains(res.body, c.want) {
			t.Errorf("%s: %d, want 422 with %q:\n%s", c.field, res.status, c.want, res.body)
		}
		in := formInputs(t, res.body)
		if in.Get("consent_version") != ebook.ConsentVersion || in.Has("source") || in.Has("consent_text") {
			t.Errorf("%s: the page shown again posts %v, want only the form's consent version", c.field, in)
		}
	}
	// A required field left empty is named too.
	res := h.do("POST", "/subscribe/ebook-datensicherheit", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"email": {"mallory@example.com"}, "consent_version": {ebook.ConsentVersion}}.Encode()))
	if res.status != 422 || !strings.Contains(res.body, "Company is required.") {
		t.Errorf("no company: %d\n%s", res.status, res.body)
	}
	var n int
	if err := h.db().Get(&n, `SELECT count(*) FROM consent_events`); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d ledger rows for refused posts", n)
	}

	// The API names the form; a source it sends must be the form's.
	api := h.subscribeJSON(map[string]any{"email": "api@example.com", "form": "ebook-datensicherheit", "attributes": map[string]any{"company": "Acme"}})
	if api.status != http.StatusAccepted {
		t.Fatalf("API with form: %d %s", api.status, api.body)
	}
	if e := h.lead("api@example.com").Ledger[0]; e.Source != ebook.Source || e.ConsentText != ebook.ConsentText || e.ConsentVersion != ebook.ConsentVersion {
		t.Errorf("API ledger %+v", e)
	}
	api = h.subscribeJSON(map[string]any{"email": "api2@example.com", "form": "ebook-datensicherheit", "source": "newsletter", "attributes": map[string]any{"company": "Acme"}})
	if api.status != 422 || !strings.Contains(api.body, `"source": "is \"newsletter\", but the form`) {
		t.Errorf("API with another source: %d %s", api.status, api.body)
	}
	api = h.subscribeJSON(map[string]any{"email": "api3@example.com", "form": "nope"})
	if api.status != 422 || !strings.Contains(api.body, `there is no form \"nope\" (there are: ebook-datensicherheit, newsletter)`) {
		t.Errorf("API with an unknown form: %d %s", api.status, api.body)
	}
	// Explicit consent in the API must not give a known version other words.
	api = h.subscribeJSON(map[string]any{"email": "api4@example.com", "source": "newsletter", "consent_version": news.ConsentVersion, "consent_text": "Yes, anything."})
	if api.status != 422 || !strings.Contains(api.body, "names another wording already") {
		t.Errorf("API with another wording: %d %s", api.status, api.body)
	}
}

// One version never names two wordings: once a form's version was live,
// an edit that gives it other words is a load problem at path:line, the
// last good form stays live, and check reports it when it can reach the
// database.
func TestForms_AVersionWithOtherWordsIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	form := func(consent, version string) string {
		return "---\ntitle: Webinar\nconsent: " + consent + "\nconsent_version: " + version + "\n---\n"
	}
	writeFile(t, dir, "forms/webinar.md", form("Yes, invite me.", "w1"))
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir})
	path := filepath.Join(dir, "forms", "webinar.md")

	writeFile(t, dir, "forms/webinar.md", form("Yes, invite me and mail me offers.", "w1"))
	err := h.reload()
	if err == nil || !strings.Contains(err.Error(), path+`:4: consent_version "w1" was live with other words since 2 November 2026 (source webinar): "Yes, invite me."`) {
		t.Fatalf("reload: %v", err)
	}
	if f := h.campaigns().Forms.Get("webinar"); f == nil || f.ConsentText != "Yes, invite me." {
		t.Fatalf("the last good form is not live: %+v", f)
	}
	var out, errOut bytes.Buffer
	err = campaignsCommand(context.Background(), []string{"check", dir}, env(map[string]string{"NURTURE_DATABASE_URL": h.cfg.DatabaseURL}), &out, &errOut)
	if err == nil || !strings.Contains(out.String(), path+`:4: consent_version "w1" was live with other words`) {
		t.Errorf("check with the database: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := campaignsCommand(context.Background(), []string{"check", dir}, env(nil), &out, &errOut); err != nil ||
		!strings.Contains(errOut.String(), "skipped the forms' consent versions") {
		t.Errorf("check without a database: %v\n%s%s", err, out.String(), errOut.String())
	}

	// A new version for the new words goes live, on a file change too.
	writeFile(t, dir, "forms/webinar.md", form("Yes, invite me and mail me offers.", "w2"))
	waitFor(t, "the new version live", func() bool { return h.campaigns().Forms.Get("webinar").ConsentVersion == "w2" })
	res := h.do("GET", "/subscribe/webinar", "", nil)
	if !strings.Contains(res.body, "Yes, invite me and mail me offers.") || !strings.Contains(res.body, `value="w2"`) {
		t.Errorf("the page after the reload:\n%s", res.body)
	}
	var wording string
	if err := h.db().Get(&wording, `SELECT wording FROM consent_versions WHERE version = 'w2'`); err != nil {
		t.Fatal(err)
	}
	if wording != "Yes, invite me and mail me offers." {
		t.Errorf("w2 kept as %q", wording)
	}
}

// preview forms/FORM prints the form's page, and a step's preview links the
// privacy policy from the footer.
func TestCampaignsPreview_FormsAndThePrivacyLink(t *testing.T) {
	t.Parallel()
	settings := env(map[string]string{"NURTURE_CAMPAIGNS": "../../campaigns", "NURTURE_PRIVACY_URL": privacyURL})
	var out, errOut bytes.Buffer
	if err := campaignsCommand(context.Background(), []string{"preview", "forms/ebook-datensicherheit"}, settings, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	f := exampleForms(t).Get("ebook-datensicherheit")
	for _, want := range []string{"<h1>" + f.Title + "</h1>", "<strong>The Data Security Playbook", `name="consent_version" value="` + f.ConsentVersion + `"`, privacyURL} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("form preview lacks %s", want)
		}
	}
	out.Reset()
	if err := campaignsCommand(context.Background(), []string{"preview", "welcome/welcome", "--text"}, settings, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Privacy policy: "+privacyURL) {
		t.Errorf("the mail's footer does not link the privacy policy:\n%s", out.String())
	}
	if err := campaignsCommand(context.Background(), []string{"preview", "forms/nope"}, settings, &out, &errOut); err == nil || !strings.Contains(err.Error(), `no form "nope"`) {
		t.Errorf("an unknown form: %v", err)
	}
}
