package web

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/report"
)

// fakeReports answers with its report and keeps the filters it was asked.
type fakeReports struct {
	mu      sync.Mutex
	filters []report.Filter
	e       report.Engagement
}

func (f *fakeReports) Engagement(ctx context.Context, fl report.Filter) (*report.Engagement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filters = append(f.filters, fl)
	e := f.e
	e.Filter = fl
	return &e, nil
}

func setupReports(t *testing.T) (*handlerBundle, *fakeReports) {
	t.Helper()
	f := &fakeReports{e: report.Engagement{Sequences: []report.Sequence{{Name: "ebook", Steps: []report.Step{{
		Key: "ebook/your-copy", Slug: "your-copy", Sent: 3,
		Opens: report.Count{Raw: 5, Counted: 2}, Clicks: report.Count{Raw: 5, Counted: 2}, Openers: 2, Clickers: 2,
		Verdicts: report.Verdicts{Human: 3, ImageProxy: 1, AppleMPP: 2, Scanner: 3, Prefetch: 1},
		Links: []report.Link{
			{URL: "https://acme.example/pricing", Text: "See pricing", Clicks: report.Count{Raw: 3, Counted: 1}},
			{Honeypot: true, Clicks: report.Count{Raw: 1}},
		},
	}}}}}}
	return setupHandlers(t, func(c *Config) { c.Reports = f; c.SalesToken = salesToken }), f
}

// The report answers every figure raw beside counted, with the filter it
// was given: a day of since= is midnight UTC.
func TestEngagementReport_RawBesideCounted(t *testing.T) {
	t.Parallel()
	b, f := setupReports(t)
	res, body := b.admin(t, "GET", "/api/v1/reports/engagement?sequence=ebook&since=2026-11-01", "")
	if res.StatusCode != 200 {
		t.Fatalf("report = %d %s", res.StatusCode, body)
	}
	if len(f.filters) != 1 || f.filters[0].Sequence != "ebook" || !f.filters[0].Since.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("filters = %+v", f.filters)
	}
	var got struct {
		Sequence        string   `json:"sequence"`
		Since           string   `json:"since"`
		CountedVerdicts []string `json:"counted_verdicts"`
		Sequences       []struct {
			Name  string `json:"name"`
			Steps []struct {
				Step          string
				Sent          int64
				Opens, Clicks struct{ Raw, Counted int64 }
				RawByVerdict  map[string]int64 `json:"raw_by_verdict"`
				Links         []struct {
					URL, Text string
					Honeypot  bool
					Clicks    struct{ Raw, Counted int64 }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Sequence != "ebook" || got.Since != "2026-11-01T00:00:00Z" || strings.Join(got.CountedVerdicts, ",") != "human,image_proxy" {
		t.Errorf("envelope = %q %q %v", got.Sequence, got.Since, got.CountedVerdicts)
	}
	if len(got.Sequences) != 1 || len(got.Sequences[0].Steps) != 1 {
		t.Fatalf("sequences = %+v", got.Sequences)
	}
	st := got.Sequences[0].Steps[0]
	if st.Step != "ebook/your-copy" || st.Sent != 3 || st.Opens.Raw != 5 || st.Opens.Counted != 2 || st.Clicks.Raw != 5 || st.Clicks.Counted != 2 {
		t.Errorf("step = %+v", st)
	}
	if v := st.RawByVerdict; len(v) != 5 || v["human"] != 3 || v["image_proxy"] != 1 || v["apple_mpp"] != 2 || v["scanner"] != 3 || v["prefetch"] != 1 {
		t.Errorf("raw_by_verdict = %v", v)
	}
	if len(st.Links) != 2 || st.Links[0].Text != "See pricing" || st.Links[0].Clicks.Raw != 3 || st.Links[0].Clicks.Counted != 1 ||
		!st.Links[1].Honeypot || st.Links[1].URL != "" {
		t.Errorf("links = %+v", st.Links)
	}
	for _, field := range []string{`"unique_openers": 2`, `"unique_clickers": 2`} {
		if !strings.Contains(body, field) {
			t.Errorf("the answer has no %s:\n%s", field, body)
		}
	}
}

// A since that is no day or time, or a sequence that is no folder's name,
// is a 400 that says what it takes; the report is not run.
func TestEngagementReport_BadFilterIs400(t *testing.T) {
	t.Parallel()
	b, f := setupReports(t)
	for _, q := range []string{"since=yesterday", "since=2026-13-01", "sequence=../etc", "sequence=a%20b"} {
		res, body := b.admin(t, "GET", "/api/v1/reports/engagement?"+q, "")
		field := strings.SplitN(q, "=", 2)[0]
		if res.StatusCode != 400 || !strings.Contains(body, field+":") {
			t.Errorf("%s: %d %s, want 400 naming %s", q, res.StatusCode, body, field)
		}
	}
	res, body := b.admin(t, "GET", "/api/v1/reports/engagement?since=2026-11-01T09:00:00%2B01:00", "")
	if res.StatusCode != 200 || len(f.filters) != 1 || !f.filters[0].Since.Equal(time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("an RFC 3339 since: %d %s, filters %+v", res.StatusCode, body, f.filters)
	}
}

// The report is the admin's: no token, a wrong one and the sales token are
// refused.
func TestEngagementReport_NeedsTheAdminToken(t *testing.T) {
	t.Parallel()
	b, f := setupReports(t)
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + salesToken} {
		res, _ := b.do(t, "GET", "/api/v1/reports/engagement", "", "", "Authorization", auth)
		if res.StatusCode != 401 {
			t.Errorf("%q: %d, want 401", auth, res.StatusCode)
		}
	}
	if len(f.filters) != 0 {
		t.Errorf("the report ran %d times without the admin token", len(f.filters))
	}
}
