package web

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"testing"
)

// The site script's behaviour, run by Node in a stand-in for a page: it
// keeps the reference, takes it out of the address bar, reports the view
// and forgets the reference when the server says the lead is gone. Without
// Node on the machine the test is skipped.
func TestSiteScript_KeepsStripsReportsAndForgets(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	type report struct {
		Store    map[string]string `json:"store"`
		Replaced *string           `json:"replaced"`
		Calls    []struct {
			URL         string            `json:"url"`
			Body        map[string]string `json:"body"`
			Type        string            `json:"type"`
			Keepalive   bool              `json:"keepalive"`
			Credentials string            `json:"credentials"`
		} `json:"calls"`
	}
	run := func(status, page string) report {
		t.Helper()
		out, err := exec.Command(node, "testdata/tjs.js", "t.js", status, page).Output()
		if err != nil {
			t.Fatalf("node: %v %s", err, out)
		}
		var r report
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return r
	}
	r := run("204", "https://www.acme.example/pricing?plan=pro&nt=abc_DEF-1#faq")
	if r.Store["nurture_nt"] != "abc_DEF-1" || r.Replaced == nil || *r.Replaced != "/pricing?plan=pro#faq" {
		t.Errorf("kept %v, left %v in the bar", r.Store, r.Replaced)
	}
	if len(r.Calls) != 1 {
		t.Fatalf("%d reports, want 1", len(r.Calls))
	}
	c := r.Calls[0]
	if c.URL != "https://nurture.example/t/view" || c.Type != "text/plain" || !c.Keepalive || c.Credentials != "omit" ||
		c.Body["nt"] != "abc_DEF-1" || c.Body["url"] != "https://www.acme.example/pricing?plan=pro#faq" ||
		!regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(c.Body["id"]) {
		t.Errorf("report %+v", c)
	}
	if r := run("410", "https://www.acme.example/?nt=abc"); len(r.Calls) != 1 || len(r.Store) != 0 {
		t.Errorf("after a 410: kept %v", r.Store)
	}
	if r := run("204", "https://www.acme.example/"); len(r.Calls) != 0 || r.Replaced != nil {
		t.Errorf("a page without a reference reported %+v", r.Calls)
	}
	if r := run("204", "https://www.acme.example/?nt=%3Cscript%3E"); len(r.Store) != 0 || len(r.Calls) != 0 || r.Replaced == nil {
		t.Errorf("a reference that is not one: kept %v, reported %d", r.Store, len(r.Calls))
	}
}
