package web

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/optin"
	"github.com/nurture/nurture/templates"
)

// fakeTracking is the tracking consent as the handlers see it: one lead,
// whose state a test sets, and the changes asked of it.
type fakeTracking struct {
	mu      sync.Mutex
	state   optin.TrackingState // CheckTracking's and Tracking's answer, with Lead set
	err     error
	changes []trackingChange
}

type trackingChange struct {
	lead int64
	tok  string
	on   bool
	w    optin.Wording
	ev   lead.Evidence
}

func (f *fakeTracking) Tracking(ctx context.Context, id int64) (optin.TrackingState, error) {
	if id != f.state.Lead {
		return optin.TrackingState{}, optin.ErrNotFound
	}
	return f.state, f.err
}

func (f *fakeTracking) CheckTracking(ctx context.Context, tok string) (optin.TrackingState, error) {
	if tok != "tok" {
		return optin.TrackingState{}, optin.ErrNotFound
	}
	return f.state, f.err
}

func (f *fakeTracking) SetTracking(ctx context.Context, id int64, on bool, w optin.Wording, ev lead.Evidence) (optin.TrackingState, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, trackingChange{lead: id, on: on, w: w, ev: ev})
	changed := f.state.Consent != on
	f.state.Consent = on
	return f.state, changed, f.err
}

func (f *fakeTracking) SetTrackingByToken(ctx context.Context, tok string, on bool, w optin.Wording, ev lead.Evidence) (optin.TrackingState, bool, error) {
	if tok != "tok" {
		return optin.TrackingState{}, false, optin.ErrNotFound
	}
	st, changed, err := f.SetTracking(ctx, f.state.Lead, on, w, ev)
	f.changes[len(f.changes)-1].tok = tok
	return st, changed, err
}

// trackingForms is one default form, "news", that asks for tracking consent.
func trackingForms(t *testing.T) campaign.Forms {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "forms"), 0o755); err != nil {
		t.Fatal(err)
	}
	form := "---\ntitle: News\nsource: news\nconsent: Send me the news.\nconsent_version: n1\nfields: [first_name]\n" +
		"tracking:\n  text: You may see what I open.\n  version: t1\n---\n"
	if err := os.WriteFile(filepath.Join(dir, "forms", "news.md"), []byte(form), 0o644); err != nil {
		t.Fatal(err)
	}
	set, problems := campaign.Load(dir, templates.FS)
	if set == nil {
		t.Fatalf("the test form does not load: %v", problems)
	}
	return set.Forms
}

func setupTracking(t *testing.T, edit func(*Config)) (*handlerBundle, *fakeTracking) {
	t.Helper()
	tr := &fakeTracking{state: optin.TrackingState{Lead: 7, Email: "anna@example.com", Source: "news", Mode: optin.TrackingConsent}}
	forms := trackingForms(t)
	b := setupHandlers(t, func(c *Config) {
		c.Tracking = tr
		c.Forms = func() campaign.Forms { return forms }
		if edit != nil {
			edit(c)
		}
	})
	return b, tr
}

func TestTrackingPage_GETShowsTheButtonAndChangesNothing(t *testing.T) {
	t.Parallel()
	b, tr := setupTracking(t, nil)
	res, body := b.do(t, "GET", "/tracking/tok", "", "")
	if res.StatusCode != 200 || !strings.Contains(body, "anna@example.com") || !strings.Contains(body, "You may see what I open.") ||
		!strings.Contains(body, `name="tracking" value="yes"`) || !strings.Contains(body, `action="/tracking/tok"`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("Referrer-Policy %q: the token must not leak", res.Header.Get("Referrer-Policy"))
	}
	tr.state.Consent = true
	if _, body := b.do(t, "GET", "/tracking/tok", "", ""); !strings.Contains(body, `name="tracking" value="no"`) {
		t.Errorf("a tracked lead is not offered the withdrawal:\n%s", body)
	}
	if len(tr.changes) != 0 {
		t.Fatal("a GET changed the consent")
	}
	if res, _ := b.do(t, "GET", "/tracking/other", "", ""); res.StatusCode != 404 {
		t.Errorf("an unknown token: %d", res.StatusCode)
	}
}

func TestTrackingPage_POSTActsWithTheWordsThePageShowed(t *testing.T) {
	t.Parallel()
	b, tr := setupTracking(t, nil)
	if res, _ := b.do(t, "POST", "/tracking/tok", formType, "tracking=yes&tracking_version=t0"); res.StatusCode != 422 || len(tr.changes) != 0 {
		t.Fatalf("a stale question: %d, changes %v", res.StatusCode, tr.changes)
	}
	res, body := b.do(t, "POST", "/tracking/tok", formType, "tracking=yes&tracking_version=t1", "User-Agent", "ua/1")
	if res.StatusCode != 200 || len(tr.changes) != 1 || !strings.Contains(body, "consent is recorded") {
		t.Fatalf("grant: %d %v\n%s", res.StatusCode, tr.changes, body)
	}
	c := tr.changes[0]
	if !c.on || c.w != (optin.Wording{Text: "You may see what I open.", Version: "t1"}) || c.ev.UserAgent != "ua/1" || c.ev.IP == "" {
		t.Errorf("grant asked %+v", c)
	}
	if res, body := b.do(t, "POST", "/tracking/tok", formType, "tracking=no"); res.StatusCode != 200 || tr.state.Consent || !strings.Contains(body, "withdrawn") {
		t.Errorf("withdraw: %d %v", res.StatusCode, tr.state)
	}
	if res, _ := b.do(t, "POST", "/tracking/tok", formType, "tracking=maybe"); res.StatusCode != 400 {
		t.Errorf("tracking=maybe: %d", res.StatusCode)
	}
	tr.err = optin.ErrNotConfirmed
	if res, _ := b.do(t, "POST", "/tracking/tok", formType, "tracking=yes&tracking_version=t1"); res.StatusCode != 409 {
		t.Errorf("a lead not confirmed: %d", res.StatusCode)
	}
}

func TestPutTracking_TakesTheLeadsFormWordsUnlessGiven(t *testing.T) {
	t.Parallel()
	b, tr := setupTracking(t, nil)
	b.optin.leads["7"] = &optin.Detail{Lead: &lead.Lead{ID: 7, Source: "news"}}
	res, body := b.admin(t, "PUT", "/api/v1/leads/7/tracking", `{"tracking": true}`)
	var got struct {
		Lead     int64               `json:"lead"`
		Tracking optin.TrackingState `json:"tracking"`
		Changed  bool                `json:"changed"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != 200 || got.Lead != 7 || !got.Changed || !got.Tracking.Consent {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if w := tr.changes[0].w; w.Version != "t1" {
		t.Errorf("grant without words took %+v, want the form's", w)
	}
	b.admin(t, "PUT", "/api/v1/leads/7/tracking", `{"tracking": true, "tracking_text": "Own.", "tracking_version": "own-1"}`)
	if w := tr.changes[1].w; w != (optin.Wording{Text: "Own.", Version: "own-1"}) {
		t.Errorf("grant with words took %+v", w)
	}
	for _, bad := range []string{`{}`, `{"tracking": 1}`, `[]`} {
		if res, _ := b.admin(t, "PUT", "/api/v1/leads/7/tracking", bad); res.StatusCode != 400 {
			t.Errorf("%s: %d", bad, res.StatusCode)
		}
	}
	if res, _ := b.admin(t, "PUT", "/api/v1/leads/8/tracking", `{"tracking": false}`); res.StatusCode != 404 {
		t.Errorf("unknown lead: %d", res.StatusCode)
	}
}

func TestSubscribeForm_TrackingCheckboxIsTheAnswer(t *testing.T) {
	t.Parallel()
	b, _ := setupTracking(t, nil)
	_, page := b.do(t, "GET", "/subscribe/news", "", "")
	if !strings.Contains(page, `<input type="checkbox" id="tracking" name="tracking" value="yes">`) {
		t.Fatalf("no unchecked box:\n%s", page)
	}
	if _, embed := b.do(t, "GET", "/subscribe/news/embed", "", ""); !strings.Contains(embed, `name="tracking_version" value="t1"&gt;`) ||
		!strings.Contains(embed, `type="checkbox" name="tracking" value="yes"&gt; You may see what I open.`) {
		t.Errorf("the embed snippet lacks the checkbox:\n%s", embed)
	}
	post := func(extra string) {
		t.Helper()
		if res, body := b.do(t, "POST", "/subscribe/news", formType, "email=a@example.com&consent_version=n1"+extra); res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", extra, res.StatusCode, body)
		}
	}
	post("&tracking_version=t1&tracking=yes")
	post("&tracking_version=t1")
	post("")
	want := []string{"true t1", "false t1", "nil "}
	for i, su := range b.optin.signups {
		got := "nil " + su.TrackingVersion
		if su.Tracking != nil {
			got = map[bool]string{true: "true ", false: "false "}[*su.Tracking] + su.TrackingVersion
		}
		if got != want[i] {
			t.Errorf("signup %d: %q, want %q", i, got, want[i])
		}
	}
	form := url.Values{"email": {"a@example.com"}, "consent_version": {"n1"}, "tracking": {"yes"}}
	if res, body := b.do(t, "POST", "/subscribe/news", formType, form.Encode()); res.StatusCode != 422 || !strings.Contains(body, "tracking_version") {
		t.Errorf("a checked box without its version: %d", res.StatusCode)
	}
}
