package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/pgtest"
)

// These tests run the commands as an operator's shell does: through
// runCommand (what main runs), with settings in the environment. They set
// the process's environment, so none of them runs in parallel.

// setEnv puts settings in the process's environment for the test.
func setEnv(t *testing.T, settings map[string]string) {
	t.Helper()
	t.Setenv("NURTURE_CONFIG", "")
	for k, v := range settings {
		t.Setenv(k, v)
	}
}

// serveSettings are the harness's settings, as an operator's shell would
// have them.
func (h *harness) serveSettings() map[string]string {
	return map[string]string{
		"NURTURE_DATABASE_URL": h.cfg.DatabaseURL, "NURTURE_CAMPAIGNS": h.cfg.Campaigns,
		"NURTURE_SMTP_URL": h.cfg.SMTPURL, "NURTURE_BASE_URL": h.cfg.BaseURL.String(), "NURTURE_SECRET": string(h.cfg.Secret),
		"NURTURE_FROM": h.cfg.From, "NURTURE_ADMIN_TOKEN": adminToken, "NURTURE_POSTAL_ADDRESS": h.cfg.PostalAddress,
	}
}

// nurture runs `nurture args…` and returns its exit status, stdout and
// stderr.
func nurture(args ...string) (int, string, string) {
	var out, errs bytes.Buffer
	code := runCommand(args, &out, &errs)
	return code, out.String(), errs.String()
}

func TestCommand_HelpListsEveryCommandAndAnUnknownOneExits2(t *testing.T) {
	for _, help := range [][]string{nil, {"help"}, {"-h"}, {"--help"}} {
		code, out, errs := nurture(help...)
		if code != 0 || errs != "" {
			t.Errorf("nurture %v: exit %d, stderr %q", help, code, errs)
		}
		for _, want := range []string{"Usage: nurture <command> [arguments]", "  scores explain EMAIL | recompute ", "  migrate ", "  help "} {
			if !strings.Contains(out, want) {
				t.Errorf("nurture %v lacks %q:\n%s", help, want, out)
			}
		}
		for _, c := range commands() {
			if !strings.Contains(out, "\n  "+c.usage+" ") || !strings.Contains(out, c.summary) {
				t.Errorf("nurture %v lacks the command %s:\n%s", help, c.name, out)
			}
		}
	}
	code, out, errs := nurture("frobnicate", "x")
	if code != 2 || out != "" || !strings.HasPrefix(errs, "nurture: unknown command \"frobnicate\"\n\nNurture: ") || !strings.Contains(errs, "Commands:") {
		t.Errorf("an unknown command: exit %d, stdout %q, stderr:\n%s", code, out, errs)
	}
	if code, out, _ := nurture("version"); code != 0 || out != "nurture "+version+"\n" {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

func TestCommand_ScoresExplainAndRecomputeThroughTheCommandLine(t *testing.T) {
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": "../../campaigns"})
	h.confirmScored(t, signup("anna@example.com"))
	setEnv(t, h.serveSettings())

	code, out, errs := nurture("scores", "explain", "ANNA@example.com")
	if code != 0 || errs != "" {
		t.Fatalf("explain: exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{
		"anna@example.com: score ", ", stage ",
		"\nFit 0, from who the lead is:\n  no fit rule holds\n",
		"+5 confirmed (points.confirmed, line 12), worth ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	if code, out, errs := nurture("scores", "recompute"); code != 0 || errs != "" ||
		out != "recomputed 1 lead under ../../campaigns/scoring.yaml: 0 ledgers changed, 0 leads became MQLs\n" {
		t.Errorf("recompute: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"explain", "nobody@example.com"}, "nurture scores: there is no lead with the address nobody@example.com\n"},
		{nil, "nurture scores: a subcommand is missing\nUsage:\n"},
		{[]string{"explain"}, "nurture scores: name one lead by its address\nUsage:\n"},
		{[]string{"explain", "a@example.com", "b@example.com"}, "nurture scores: name one lead by its address\nUsage:\n"},
		{[]string{"recompute", "now"}, "nurture scores: recompute takes no arguments\nUsage:\n"},
		{[]string{"rescore"}, "nurture scores: unknown subcommand \"rescore\"\nUsage:\n"},
	} {
		code, out, errs := nurture(append([]string{"scores"}, c.args...)...)
		if code != 1 || out != "" || !strings.HasPrefix(errs, c.err) {
			t.Errorf("scores %q: exit %d, stdout %q, stderr %q, want exit 1 and %q", c.args, code, out, errs, c.err)
		}
	}
}

func TestCommand_ReportEngagementThroughTheCommandLine(t *testing.T) {
	h := start(t, nil)
	sent := h.clock.Now().Add(-time.Hour)
	a := h.trackedLead("anna@example.com")
	m := h.sentMail(a, "welcome/01-hello", sent, "https://acme.example/pricing")
	h.sentMail(h.trackedLead("ben@example.com"), "other/01-news", sent)
	if res := h.do("GET", "/o/"+h.signer().Open(m), "", nil); res.status != 200 {
		t.Fatalf("open: %d", res.status)
	}
	setEnv(t, h.serveSettings())
	day := sent.Format(time.DateOnly)

	code, out, errs := nurture("report", "engagement", "--sequence", "welcome", "--since", day)
	if code != 0 || errs != "" {
		t.Fatalf("report: exit %d, stderr %q", code, errs)
	}
	row := regexp.MustCompile(`(?m)^welcome/01-hello .*$`).FindString(out)
	if f := strings.Join(strings.Fields(row), " "); f != "welcome/01-hello 1 1 1 0 0 1 0 1 0 0 0 0" {
		t.Errorf("step row %q:\n%s", f, out)
	}
	if !strings.HasPrefix(out, "Engagement of the mails of sequence welcome, delivered since "+day+".\n") || strings.Contains(out, "other/01-news") {
		t.Errorf("the report's scope:\n%s", out)
	}
	if code, out, _ := nurture("report", "engagement"); code != 0 || !strings.Contains(out, "\nother/01-news ") || !strings.Contains(out, "every sequence") {
		t.Errorf("report of every sequence: exit %d:\n%s", code, out)
	}
	later := sent.Add(48 * time.Hour).Format(time.DateOnly)
	if code, out, _ := nurture("report", "engagement", "--since", later); code != 0 || !strings.HasSuffix(out, "\nNo mails.\n") {
		t.Errorf("report since %s: exit %d:\n%s", later, code, out)
	}

	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"engagement", "--since", "yesterday"}, "nurture report: --since: \"yesterday\" is not a day such as 2026-11-01\n"},
		{[]string{"engagement", "--since", "2026-13-01"}, "nurture report: --since: \"2026-13-01\" is not a day such as 2026-11-01\n"},
		{nil, "nurture report: a report is missing\nUsage:\n"},
		{[]string{"bounces"}, "nurture report: unknown report \"bounces\"\nUsage:\n"},
		{[]string{"engagement", "welcome"}, "nurture report: unexpected argument \"welcome\"\nUsage:\n"},
	} {
		code, out, errs := nurture(append([]string{"report"}, c.args...)...)
		if code != 1 || out != "" || !strings.HasPrefix(errs, c.err) {
			t.Errorf("report %q: exit %d, stdout %q, stderr %q, want exit 1 and %q", c.args, code, out, errs, c.err)
		}
	}
}

func TestCommand_MigrateMakesAnEmptyDatabaseCurrent(t *testing.T) {
	url := pgtest.EmptyURL(t)
	setEnv(t, map[string]string{"NURTURE_DATABASE_URL": url})
	code, out, errs := nurture("migrate")
	m := regexp.MustCompile(`^applied (\d+) migration\(s\); the schema is current\n$`).FindStringSubmatch(out)
	if code != 0 || errs != "" || m == nil {
		t.Fatalf("migrate: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var goose, river, leads int
	if err := db.Get(&goose, `SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied`); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&river, `SELECT count(*) FROM river_migration`); err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(m[1]); goose == 0 || river == 0 || goose+river != n {
		t.Errorf("applied %d migrations; goose records %d, River %d", n, goose, river)
	}
	if err := db.Get(&leads, `SELECT count(*) FROM leads`); err != nil {
		t.Errorf("no leads table: %v", err)
	}
	if code, out, _ := nurture("migrate"); code != 0 || out != "applied 0 migration(s); the schema is current\n" {
		t.Errorf("a second migrate: exit %d, %q", code, out)
	}

	t.Setenv("NURTURE_DATABASE_URL", "mysql://nurture@db.internal/nurture")
	if code, out, errs := nurture("migrate"); code != 1 || out != "" ||
		errs != "nurture migrate: config: NURTURE_DATABASE_URL: a URL must start with postgres:// or postgresql://\n" {
		t.Errorf("a bad database URL: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	t.Setenv("NURTURE_DATABASE_URL", "")
	if code, _, errs := nurture("migrate"); code != 1 || errs != "nurture migrate: config: NURTURE_DATABASE_URL: is required\n" {
		t.Errorf("no database URL: exit %d, stderr %q", code, errs)
	}
}
