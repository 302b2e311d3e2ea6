package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// readmeRoutes reads the tables of README.md's "HTTP API" section: each
// `METHOD /path` in a row's first cell (without its query), with the
// table it stands in, "public", "admin" or "sales", and how often.
func readmeRoutes(t *testing.T) map[string][]string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## HTTP API\n")
	if !ok {
		t.Fatal(`README.md has no "## HTTP API" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	endpoint := regexp.MustCompile("`([A-Z]+) (/[^`?]*)[^`]*`")
	routes := map[string][]string{}
	table := ""
	for _, line := range strings.Split(section, "\n") {
		switch {
		case strings.HasSuffix(line, "Public:"):
			table = "public"
		case strings.HasPrefix(line, "Admin ("):
			table = "admin"
		case strings.HasPrefix(line, "Sales ("):
			table = "sales"
		}
		cells := strings.Split(line, "|")
		if len(cells) < 3 || cells[0] != "" {
			continue
		}
		for _, m := range endpoint.FindAllStringSubmatch(cells[1], -1) {
			routes[m[1]+" "+m[2]] = append(routes[m[1]+" "+m[2]], table)
		}
	}
	return routes
}

// Every route the server serves has one row in README.md's API tables, in
// the table of the token it needs, and every route a row names is served.
func TestREADME_APITablesListEveryServedRoute(t *testing.T) {
	t.Parallel()
	// The site's routes are served only where NURTURE_SITE_HOSTS names a site.
	h := start(t, map[string]string{"NURTURE_SITE_HOSTS": "www.acme.example"})
	res := h.do("GET", "/api/v1", "", nil)
	var index struct {
		Endpoints []struct {
			Method, Path string
			Admin, Sales bool
		} `json:"endpoints"`
	}
	if err := json.Unmarshal([]byte(res.body), &index); err != nil || res.status != 200 {
		t.Fatalf("GET /api/v1: %d %v", res.status, err)
	}
	documented := readmeRoutes(t)
	served := map[string]bool{}
	for _, e := range index.Endpoints {
		key := e.Method + " " + e.Path
		served[key] = true
		want := "public"
		if e.Sales {
			want = "sales"
		} else if e.Admin {
			want = "admin"
		}
		switch got := documented[key]; {
		case len(got) == 0:
			t.Errorf("%s is served (%s) but README.md's API tables lack it", key, want)
		case len(got) > 1:
			t.Errorf("%s stands %d times in README.md's API tables", key, len(got))
		case got[0] != want:
			t.Errorf("%s is in README.md's %s table; it is %s", key, got[0], want)
		}
	}
	for key := range documented {
		method, path, _ := strings.Cut(key, " ")
		if !served[key] && !(method == "HEAD" && served["GET "+path]) {
			t.Errorf("README.md's API tables list %s, which the server does not serve", key)
		}
	}
	if len(documented) < 20 {
		t.Fatalf("read only %d routes from README.md's API tables; has the section changed shape?", len(documented))
	}
}

// README.md's list of commands is the binary's own: every line that
// nurture help prints for a command stands there.
func TestREADME_ListsEveryCommandAsHelpPrintsIt(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var help strings.Builder
	usage(&help)
	for _, line := range strings.Split(help.String(), "\n") {
		if !strings.HasPrefix(line, "  ") {
			continue
		}
		if want := "nurture " + strings.TrimSpace(line); !strings.Contains(string(readme), want+"\n") {
			t.Errorf("README.md lacks the command line %q", want)
		}
	}
	for _, c := range commands() {
		if !strings.Contains(help.String(), "  "+c.usage+" ") {
			t.Errorf("nurture help does not list %s", c.name)
		}
	}
}
