package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
	"testing"

	"github.com/nurture/nurture/internal/campaign"
)

func TestCampaignsCheck_BrokenFixturesReportPathLineAndExit1(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := runCampaigns(context.Background(), []string{"check", "../../internal/campaign/testdata/broken"}, &out)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Fatalf("exit: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for _, l := range lines[:len(lines)-1] {
		if !problemLine.MatchString(l) {
			t.Errorf("not path:line: message: %q", l)
		}
	}
	var stderr bytes.Buffer
	if status := exitStatus("campaigns", err, &stderr); status != 1 || stderr.Len() != 0 {
		t.Errorf("exit status %d and stderr %q; want 1 and nothing after the problems", status, stderr.String())
	}
	for _, want := range []string{
		"testdata/broken/no-sequence/sequence.md:1: missing: every sequence folder needs a sequence.md",
		"testdata/broken/bad/notes.md:1: warning: ignored:",
		"testdata/broken/bad/01-welcome.md:2: unknown key \"subjet\": did you mean \"subject\"?",
		"testdata/broken/bad/01-welcome.md:3: delay \"3 days\"",
		"testdata/broken/bad/01-welcome.md:7: link \"/pricing\" is not a full address",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// shipped is the settings of a shell that names only the shipped campaigns.
var shipped = env(map[string]string{"NURTURE_CAMPAIGNS": "../../campaigns"})

// problemLine is path:line: message.
var problemLine = regexp.MustCompile(`^[^:]+:[0-9]+: \S`)

// The shipped campaigns have no problem.
func TestCampaignsCheck_ShippedCampaignsAreValid(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := runCampaigns(context.Background(), []string{"check", "../../campaigns"}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := "../../campaigns: ok, 2 sequences with 11 steps, 2 forms, scoring.yaml, 0 warnings\n"
	if out.String() != want {
		t.Errorf("check:\n%s\nwant:\n%s", out.String(), want)
	}
}

// Warnings are told from errors by "warning:" and alone exit 0; one error
// among them exits 1.
func TestCampaignsCheck_ExitsOneOnlyForErrors(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"welcome/sequence.md": "---\ntrigger: confirmed\nsources: [newsletter]\n---\n",
		"welcome/01-hi.md":    "---\nsubject: Hi\ndelay: 0\n---\nHi.\n",
		"webinar/sequence.md": "---\ntrigger: confirmed\nsources: [newsletter]\n---\n",
		"webinar/01-hi.md":    "---\nsubject: Hi\ndelay: 0\nif: attr.company_size > 200\n---\nHi.\n",
	}
	dir := writeCampaigns(t, files)
	var out bytes.Buffer
	if err := runCampaigns(context.Background(), []string{"check", dir}, &out); err != nil {
		t.Fatalf("warnings only: %v\n%s", err, out.String())
	}
	want := dir + `/webinar/01-hi.md:4: warning: if: attr.company_size > 200 is never true for a lead whose form sent "250" or nothing: forms send text, so compare through number(): number(attr.company_size) > 200
` + dir + `/welcome/sequence.md:2: warning: trigger confirmed, from newsletter: webinar enrols the same leads, so each of them gets both sequences at once; give one its own trigger or sources (a copy belongs in _drafts/ until it has them)
` + dir + `: ok, 2 sequences with 2 steps, 2 warnings
`
	if out.String() != want {
		t.Errorf("check:\n%s\nwant:\n%s", out.String(), want)
	}

	files["webinar/02-more.md"] = "---\nsubject: More\ndelay: 1d\n---\nSee [pricing](example.com/pricing).\n"
	dir = writeCampaigns(t, files)
	out.Reset()
	err := runCampaigns(context.Background(), []string{"check", dir}, &out)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Fatalf("with an error: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), dir+`/webinar/02-more.md:5: link "example.com/pricing" is not a full address: write it with https:// and the domain, such as https://example.com/pricing`+"\n") ||
		!strings.HasSuffix(out.String(), dir+": 1 error, 2 warnings\n") {
		t.Errorf("check:\n%s", out.String())
	}
}

func TestCampaignsPreview_PrintsTheSampleMail(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := campaignsCommand(context.Background(), []string{"preview", "welcome/01", "--sample", "--text"}, shipped, &out, io.Discard); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Hi Jana,") || strings.Contains(out.String(), "<p>") {
		t.Fatalf("text preview:\n%s", out.String())
	}
}

func TestCampaignsTimeline_AppliesTheWindowInTheLeadsZone(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := campaignsCommand(context.Background(), []string{"timeline", "ebook-datensicherheit", "--start", "2026-03-26 10:00", "--tz", "Europe/Berlin"}, shipped, &out, io.Discard)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	// Two days after Thursday is Saturday: the Mon-Fri window moves it to
	// Monday 09:00, which is summer time after the 29 March change.
	if !strings.Contains(out.String(), "Mon 2026-03-30 09:00 CEST") {
		t.Fatalf("timeline:\n%s", out.String())
	}
}

func TestCampaignsPreview_RawIsTheMailTheServerSends(t *testing.T) {
	t.Parallel()
	dir := writeCampaigns(t, map[string]string{
		"ebook/sequence.md": "---\ntrigger: confirmed\n---\n",
		"ebook/01-download.md": "---\nsubject: Your e-book, {{ .Lead.FirstName }}\npreheader: Three chapters first\ndelay: 0\n---\n" +
			"Here it is, {{ .Lead.Attr \"company\" }}: [the playbook]({{ .BaseURL }}/ebook.pdf)\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_POSTAL_ADDRESS": "Acme GmbH · Hafenstraße 1 · 20457 Hamburg"})
	h.confirmAnna(1)
	sent := h.waitMail(2)

	var out, errs bytes.Buffer
	if err := campaignsCommand(context.Background(), []string{"preview", "ebook/01", "--lead", "anna@example.com", "--raw"}, h.operatorEnv(), &out, &errs); err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	if errs.Len() != 0 {
		t.Errorf("notes although every setting is there:\n%s", errs.String())
	}
	preview := parseMail(t, out.Bytes())
	if preview.HTML != sent.HTML || preview.Text != sent.Text {
		t.Errorf("the preview's parts differ from the mail sent:\npreview:\n%s\n%s\nsent:\n%s\n%s", preview.Text, preview.HTML, sent.Text, sent.HTML)
	}
	for _, k := range []string{"From", "To", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post", "X-Nurture-Step", "Content-Type"} {
		got, want := preview.Header.Get(k), sent.Header.Get(k)
		if k == "Content-Type" { // the boundary follows the Message-ID
			got, _, _ = strings.Cut(got, ";")
			want, _, _ = strings.Cut(want, ";")
		}
		if got != want {
			t.Errorf("header %s: preview %q, sent %q", k, got, want)
		}
	}
	if !strings.Contains(preview.HTML, h.base+"/ebook.pdf") || strings.Contains(preview.Text, campaign.SampleBaseURL) {
		t.Errorf("the preview does not use the configured base URL:\n%s", preview.Text)
	}

	// --text and --html print those parts of the same mail.
	for flag, want := range map[string]string{"--text": sent.Text + "\n", "--html": sent.HTML} {
		out.Reset()
		if err := campaignsCommand(context.Background(), []string{"preview", "ebook/01", "--lead", "anna@example.com", flag}, h.operatorEnv(), &out, &errs); err != nil {
			t.Fatal(err)
		}
		if got := strings.ReplaceAll(out.String(), "\r\n", "\n"); got != strings.ReplaceAll(want, "\r\n", "\n") {
			t.Errorf("preview %s:\n%s\nwant:\n%s", flag, got, want)
		}
	}
}

func TestCampaignsPreview_WithoutSettingsSaysWhatIsASample(t *testing.T) {
	t.Parallel()
	var out, errs bytes.Buffer
	if err := campaignsCommand(context.Background(), []string{"preview", "welcome/01", "--raw"}, shipped, &out, &errs); err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	m := parseMail(t, out.Bytes())
	if !strings.Contains(m.Text, campaign.SampleFooter) || !strings.Contains(m.Text, campaign.SampleUnsubscribeURL) {
		t.Errorf("the sample preview lacks the sample footer and link:\n%s", m.Text)
	}
	for _, want := range []string{"NURTURE_POSTAL_ADDRESS is not set", "links use the sample address"} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs.String())
		}
	}
}

func TestCampaignsSendTest_SendsTheStepAsTheServerWould(t *testing.T) {
	t.Parallel()
	const address = "Acme GmbH · Hafenstraße 1 · 20457 Hamburg"
	dir := writeCampaigns(t, map[string]string{
		"ebook/sequence.md":    "---\ntrigger: confirmed\n---\n",
		"ebook/01-download.md": "---\nsubject: Your e-book\npreheader: Three chapters first\ndelay: 0\n---\nHere it is.\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_POSTAL_ADDRESS": address})
	var out, errs bytes.Buffer
	if err := campaignsCommand(context.Background(), []string{"send-test", "ebook/download", "--to", "jonas@acme.example"}, h.operatorEnv(), &out, &errs); err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	m := h.waitMail(1)
	if m.Subject != "[TEST] Your e-book" || m.To[0] != "jonas@acme.example" {
		t.Fatalf("test mail %q to %v", m.Subject, m.To)
	}
	if n := strings.Count(m.HTML, "Three chapters first"); n != 1 {
		t.Errorf("the preheader is %d times in the test mail, want once", n)
	}
	if !strings.Contains(m.HTML, address) || !strings.Contains(m.Text, address) {
		t.Errorf("the test mail lacks the postal address:\n%s", m.Text)
	}
	if m.Header.Get("List-Unsubscribe") != "" {
		t.Errorf("the test copy offers one-click unsubscribe: %q", m.Header.Get("List-Unsubscribe"))
	}
}

// composed is a composed message, decoded.
type composed struct {
	Header     mail.Header
	HTML, Text string
}

// parseMail decodes a composed message: its headers and the text and HTML
// parts of its multipart/alternative body.
func parseMail(t *testing.T, raw []byte) composed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%v:\n%s", err, raw)
	}
	c := composed{Header: msg.Header}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // undoes quoted-printable
		if err == io.EOF {
			return c
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			c.HTML = string(b)
		} else {
			c.Text = string(b)
		}
	}
}

func TestCampaignsTimeline_SaysWhoseZoneItShows(t *testing.T) {
	t.Parallel()
	settings := env(map[string]string{"NURTURE_DEFAULT_TIMEZONE": "Europe/Lisbon", "NURTURE_CAMPAIGNS": writeCampaigns(t, map[string]string{
		"lead/sequence.md":  "---\ntrigger: confirmed\nsend_window: Mon-Fri 09:00-17:00\n---\n",
		"lead/01-a.md":      "---\nsubject: A\ndelay: 0\n---\nHi.\n",
		"fixed/sequence.md": "---\ntrigger: confirmed\nsend_window: Mon-Fri 09:00-17:00\ntimezone: Asia/Tokyo\n---\n",
		"fixed/01-a.md":     "---\nsubject: A\ndelay: 0\n---\nHi.\n",
	})})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"lead"}, "time zone Europe/Lisbon (the server's default, for leads without a time zone; --tz shows another)"},
		{[]string{"lead", "--tz", "Europe/Berlin"}, "time zone Europe/Berlin (the lead's)"},
		{[]string{"fixed"}, "time zone Asia/Tokyo (the sequence's own)"},
		{[]string{"fixed", "--tz", "Europe/Berlin"}, "time zone Asia/Tokyo (the sequence's own; --tz Europe/Berlin does not apply)"},
	} {
		var out bytes.Buffer
		if err := campaignsCommand(context.Background(), append([]string{"timeline", "--start", "2026-03-26 10:00"}, tt.args...), settings, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("timeline %v lacks %q:\n%s", tt.args, tt.want, out.String())
		}
	}
}
