package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Opens and clicks through the real pixel and redirect, of a person, Apple
// MPP, a HEAD prefetch and a scanner's network: the API and the CLI report
// them raw beside counted, and only the person's count.
func TestReportEngagement_RawBesideCountedThroughAPIAndCLI(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_TRUSTED_PROXIES": "127.0.0.1/32"})
	s := h.signer()
	sent := h.clock.Now().Add(-time.Hour)
	a, b := h.trackedLead("anna@example.com"), h.trackedLead("ben@example.com")
	ma := h.sentMail(a, "welcome/01-hello", sent, "https://acme.example/pricing", "https://acme.example/docs")
	mb := h.sentMail(b, "welcome/01-hello", sent, "https://acme.example/pricing", "https://acme.example/docs")
	h.sentMail(b, "other/01-news", sent)

	for _, r := range []struct {
		method, path string
		hdr          []string
	}{
		{"GET", "/o/" + s.Open(ma), nil},                                            // a person
		{"GET", "/o/" + s.Open(ma), []string{"User-Agent", "Mozilla/5.0"}},          // Apple MPP
		{"HEAD", "/o/" + s.Open(ma), nil},                                           // a prefetch
		{"GET", "/c/" + s.Click(ma, 1), nil},                                        // the person clicks
		{"GET", "/c/" + s.Click(mb, 1), []string{"X-Forwarded-For", "40.107.22.9"}}, // Microsoft's scanner
	} {
		if res := h.do(r.method, r.path, "", nil, r.hdr...); res.status != 200 && res.status != 302 {
			t.Fatalf("%s %s: %d", r.method, r.path, res.status)
		}
	}

	res := h.do("GET", "/api/v1/reports/engagement?sequence=welcome", "", nil, "Authorization", "Bearer "+adminToken)
	var got struct {
		Sequences []struct {
			Name  string
			Steps []struct {
				Step                          string
				Sent                          int
				Opens, Clicks                 struct{ Raw, Counted int }
				UniqueOpeners, UniqueClickers int            `json:"-"`
				RawByVerdict                  map[string]int `json:"raw_by_verdict"`
				Links                         []struct {
					URL    string
					Clicks struct{ Raw, Counted int }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(res.body), &got); err != nil || res.status != 200 {
		t.Fatalf("report: %d %s %v", res.status, res.body, err)
	}
	if len(got.Sequences) != 1 || len(got.Sequences[0].Steps) != 1 {
		t.Fatalf("report of welcome: %s", res.body)
	}
	st := got.Sequences[0].Steps[0]
	v := st.RawByVerdict
	if st.Step != "welcome/01-hello" || st.Sent != 2 || st.Opens.Raw != 3 || st.Opens.Counted != 1 || st.Clicks.Raw != 2 || st.Clicks.Counted != 1 ||
		v["human"] != 2 || v["apple_mpp"] != 1 || v["prefetch"] != 1 || v["scanner"] != 1 || v["image_proxy"] != 0 {
		t.Errorf("step = %+v", st)
	}
	if len(st.Links) != 1 || st.Links[0].URL != "https://acme.example/pricing" || st.Links[0].Clicks.Raw != 2 || st.Links[0].Clicks.Counted != 1 {
		t.Errorf("links = %+v", st.Links)
	}

	var out bytes.Buffer
	since := sent.Add(-24 * time.Hour).Format(time.DateOnly)
	if err := reportCommand(context.Background(), []string{"engagement", "--sequence", "welcome", "--since", since}, h.operatorEnv(), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	var table []string
	for i, l := range lines {
		if strings.HasPrefix(l, "STEP ") && strings.Contains(l, "SENT") {
			table = lines[i : i+2]
		}
	}
	if len(table) != 2 || len(table[0]) != len(table[1]) {
		t.Fatalf("no aligned step table in:\n%s", out.String())
	}
	want := []string{"welcome/01-hello", "2", "3", "1", "2", "1", "1", "1", "2", "0", "1", "1", "1"}
	if f := strings.Fields(table[1]); strings.Join(f, " ") != strings.Join(want, " ") {
		t.Errorf("step row %q, want %q\n%s", f, want, out.String())
	}
	if !strings.Contains(out.String(), "sequence welcome, delivered since "+since) || strings.Contains(out.String(), "other/") {
		t.Errorf("the report's scope:\n%s", out.String())
	}
	for _, l := range lines {
		if strings.Contains(l, "https://acme.example/pricing") && strings.Join(strings.Fields(l)[len(strings.Fields(l))-2:], " ") != "2 1" {
			t.Errorf("link row %q, want clicks raw 2 counted 1", l)
		}
	}
}
