package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/optin"
	"github.com/nurture/nurture/internal/token"
	"github.com/nurture/nurture/templates"
)

// fakeOptIn records what the handlers ask of the opt-in and answers with
// what a test set. Its zero value accepts everything.
type fakeOptIn struct {
	mu        sync.Mutex
	signups   []lead.Signup
	evidence  []lead.Evidence
	kept      []lead.Signup
	confirmed []string
	resent    []string
	unsubbed  []string
	erased    []int64

	subscribeErr, keepErr, confirmErr, resendErr, unsubscribeErr, eraseErr error
	state                                                                  optin.ConfirmState
	checkErr                                                               error
	already                                                                bool
	email                                                                  string // CheckUnsubscribe's answer
	leads                                                                  map[string]*optin.Detail
	hang                                                                   bool // Subscribe waits until its context ends, as with a database that hangs
}

func (f *fakeOptIn) Subscribe(ctx context.Context, in lead.Signup, ev lead.Evidence) error {
	if f.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signups, f.evidence = append(f.signups, in), append(f.evidence, ev)
	return f.subscribeErr
}

func (f *fakeOptIn) SubscribeKeepingConsent(ctx context.Context, in lead.Signup, ev lead.Evidence) error {
	f.mu.Lock()
	f.kept = append(f.kept, in)
	err := f.keepErr
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.Subscribe(ctx, in, ev)
}

func (f *fakeOptIn) CheckConfirm(ctx context.Context, tok string) (optin.ConfirmState, error) {
	return f.state, f.checkErr
}

func (f *fakeOptIn) Confirm(ctx context.Context, tok string, ev lead.Evidence) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confirmed = append(f.confirmed, tok)
	return f.already, f.confirmErr
}

func (f *fakeOptIn) Resend(ctx context.Context, tok string, ev lead.Evidence) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resent = append(f.resent, tok)
	return f.resendErr
}

func (f *fakeOptIn) CheckUnsubscribe(ctx context.Context, tok string) (string, error) {
	if f.email == "" {
		return "", optin.ErrNotFound
	}
	return f.email, nil
}

func (f *fakeOptIn) Unsubscribe(ctx context.Context, tok string, ev lead.Evidence) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unsubbed = append(f.unsubbed, tok)
	return f.unsubscribeErr
}

func (f *fakeOptIn) Lookup(ctx context.Context, ref string) (*optin.Detail, error) {
	if d, ok := f.leads[ref]; ok {
		return d, nil
	}
	return nil, optin.ErrNotFound
}

func (f *fakeOptIn) Erase(ctx context.Context, id int64, ev lead.Evidence) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.erased = append(f.erased, id)
	return f.eraseErr
}

// fakeSequences is the sequence engine as the admin API sees it.
type fakeSequences struct {
	err    error
	change dispatch.StageChange
	enrol  lead.Enrolment
}

func (f *fakeSequences) SetStage(ctx context.Context, leadID int64, stage lead.Stage) (dispatch.StageChange, error) {
	c := f.change
	c.Lead, c.Stage = leadID, stage
	return c, f.err
}

func (f *fakeSequences) Enrol(ctx context.Context, sequence string, leadID int64) (lead.Enrolment, error) {
	e := f.enrol
	e.Sequence, e.LeadID = sequence, leadID
	return e, f.err
}

const testToken = "admin-token"

// testForms loads one signup form, "news", from a campaigns folder of its own.
func testForms(t *testing.T) campaign.Forms {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "forms"), 0o755); err != nil {
		t.Fatal(err)
	}
	form := "---\ntitle: News\nsource: news\nconsent: Send me the news.\nconsent_version: n1\nfields:\n  - first_name\n  - company\nbutton: Subscribe\n---\nNews, now and then.\n"
	if err := os.WriteFile(filepath.Join(dir, "forms", "news.md"), []byte(form), 0o644); err != nil {
		t.Fatal(err)
	}
	set, problems := campaign.Load(dir, templates.FS)
	if set == nil || set.Forms.Get("news") == nil {
		t.Fatalf("the test form does not load: %v", problems)
	}
	return set.Forms
}

// handlerBundle is a Server over fakes, served by httptest.
type handlerBundle struct {
	optin *fakeOptIn
	seq   *fakeSequences
	eng   *fakeEngage
	srv   *Server
	ts    *httptest.Server
}

// setupHandlers serves the HTTP surface over fakes; edit changes the
// config before the server is built.
func setupHandlers(t *testing.T, edit func(*Config)) *handlerBundle {
	t.Helper()
	b := &handlerBundle{optin: &fakeOptIn{leads: map[string]*optin.Detail{}}, seq: &fakeSequences{}, eng: &fakeEngage{}}
	forms := testForms(t)
	cfg := Config{
		BaseURL:    &url.URL{Scheme: "https", Host: "nurture.test"},
		AdminToken: testToken,
		Templates:  templates.FS,
		Signer:     token.NewSigner([]byte(strings.Repeat("k", 32))),
		Sequences:  b.seq,
		Engage:     b.eng,
		Forms:      func() campaign.Forms { return forms },
		Now:        func() time.Time { return time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) },
		Log:        slog.New(slog.DiscardHandler),
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := New(b.optin, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.srv = srv
	b.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(b.ts.Close)
	return b
}

// do sends a request and returns the response with its body read.
func (b *handlerBundle) do(t *testing.T, method, path, contentType, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, b.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(data)
}

func (b *handlerBundle) admin(t *testing.T, method, path, body string) (*http.Response, string) {
	t.Helper()
	return b.do(t, method, path, "application/json", body, "Authorization", "Bearer "+testToken)
}
