package handoff

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/templates"
)

func TestStory_ProfileReadsLabelsAndTheFormTitle(t *testing.T) {
	t.Parallel()
	forms := campaign.Forms{
		{Slug: "newsletter", Title: "Get the newsletter", Source: "newsletter"},
		{Slug: "ebook", Title: "Free e-book: The Playbook", Source: "ebook-datensicherheit",
			Fields: []campaign.FormField{{Name: "email", Label: "Email"}, {Name: "attributes.company_size", Label: "Employees"}}},
	}
	l := &lead.Lead{Email: "lea@example.com", Source: "ebook-datensicherheit",
		Attributes: map[string]any{"company_size": "250", "job_title": "CTO", "cost-centre.code": "7"}}
	got := map[string]string{}
	for _, f := range profile(l, formOf(forms, l.Source)) {
		got[f.Label] = f.Value
	}
	for label, v := range map[string]string{"Employees": "250", "Job title": "CTO", "Cost centre code": "7", "Signed up through": "Free e-book: The Playbook"} {
		if got[label] != v {
			t.Errorf("%s = %q, want %q in %v", label, got[label], v, got)
		}
	}
	// a form found by slug, and a source no form records
	if f := formOf(forms, "newsletter"); f == nil || f.Slug != "newsletter" {
		t.Errorf("formOf(newsletter) = %v", f)
	}
	l.Source = "crm-import"
	got = map[string]string{}
	for _, f := range profile(l, formOf(forms, l.Source)) {
		got[f.Label] = f.Value
	}
	if got["Signed up through"] != "crm-import" || got["Company size"] != "250" {
		t.Errorf("without a form: %v", got)
	}
}

func TestStory_MailsAreNamedByTheirSubjectElseTheirStep(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a    store.Activity
		want string
	}{
		{store.Activity{Source: "pixel", Type: "open", StepKey: "ebook/your-copy", Subject: "Your copy"}, "opened the mail “Your copy”"},
		{store.Activity{Source: "pixel", Type: "open", StepKey: "ebook/your-copy"}, "opened the mail ebook/your-copy"},
		{store.Activity{Source: "pixel", Type: "open"}, "opened the mail (unknown)"},
		{store.Activity{Source: "click", Type: "click", StepKey: "ebook/your-copy", Subject: "Your copy", URL: "https://x.example/", LinkText: "Read"},
			"clicked “Read” (https://x.example/) in the mail “Your copy”"},
		{store.Activity{Source: "click", Type: "click", StepKey: "ebook/your-copy", URL: "https://x.example/"},
			"clicked https://x.example/ in the mail ebook/your-copy"},
	} {
		if got := describe(c.a); got != c.want {
			t.Errorf("describe(%+v) = %q, want %q", c.a, got, c.want)
		}
	}
	// the subject as sent wins over the step's, and the step's is taken
	// only when it has no placeholders
	dir := t.TempDir()
	for name, body := range map[string]string{
		"news/sequence.md": "---\nname: News\ntrigger: confirmed\n---\n",
		"news/01-hello.md": "---\nsubject: Hello from the step\ndelay: 0\n---\nHello.\n",
		"news/02-named.md": "---\nsubject: \"{{ .Lead.FirstName }}, a word\"\ndelay: 1d\n---\nHello.\n",
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, ps := campaign.Load(dir, templates.FS)
	if set == nil {
		t.Fatal(ps)
	}
	got := activity([]store.Activity{
		{Source: "pixel", Type: "open", StepKey: "news/hello"},
		{Source: "pixel", Type: "open", StepKey: "news/hello", Subject: "Hello, as sent"},
		{Source: "pixel", Type: "open", StepKey: "news/named"},
		{Source: "pixel", Type: "open", StepKey: "news/gone"},
	}, set)
	want := []string{"opened the mail “Hello from the step”", "opened the mail “Hello, as sent”", "opened the mail news/named", "opened the mail news/gone"}
	for i, w := range want {
		if got[i].What != w {
			t.Errorf("activity %d: %q, want %q", i, got[i].What, w)
		}
	}
}

func TestStory_AdviceForWrongOrderActions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a      Action
		status string
		stage  lead.Stage
		want   string
		then   Action
	}{
		{Qualify, store.HandoffOpen, lead.StageMQL, "Accept this lead first: qualifying comes after accepting.", Accept},
		{Accept, store.HandoffAccepted, lead.StageSAL, "You have accepted this lead already", Qualify},
		{Reject, store.HandoffQualified, lead.StageSQL, "This lead is qualified already", ""},
		{Accept, store.HandoffRejected, lead.StageLead, "This lead was rejected and went back to nurturing", ""},
		{Accept, store.HandoffOpen, lead.StageSQL, "it is at stage sql now), so it can no longer be accepted", ""},
		{Qualify, "", lead.StageLead, "so it cannot be qualified", ""},
	} {
		got, then := Advice(c.a, c.status, c.stage)
		if !strings.Contains(got, c.want) || then != c.then || strings.Contains(got, "needs") {
			t.Errorf("Advice(%s, %q, %s) = %q, %q; want %q, %q", c.a, c.status, c.stage, got, then, c.want, c.then)
		}
	}
}

func TestStory_CheckLinkOfQualifyBeforeAcceptLinksToAccepting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := b.mql(t, "lea@example.com", "anna@sales.example")
	ctx := context.Background()
	exp := b.clock.Now().Add(b.svc.opts.LinkTTL)
	v, err := b.svc.CheckLink(ctx, Qualify, b.svc.linkToken(Qualify, h.ID, exp))
	if err != nil {
		t.Fatal(err)
	}
	if v.Why != "Accept this lead first: qualifying comes after accepting." || v.Then != Accept || !strings.Contains(v.Next, "/sales/accept/") {
		t.Fatalf("qualify first: %+v", v)
	}
	tok := strings.TrimPrefix(v.Next, "http://nurture.test/sales/accept/")
	if id, err := b.svc.verifyLink(Accept, tok, b.clock.Now()); err != nil || id != h.ID {
		t.Fatalf("the accept link %q: %d, %v", v.Next, id, err)
	}
	v, err = b.svc.CheckLink(ctx, Accept, b.svc.linkToken(Accept, h.ID, exp))
	if err != nil || v.Why != "" || v.Next != "" {
		t.Fatalf("accept, which fits: %+v, %v", v, err)
	}
}
