package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// Every error of the campaigns command is one line that says each thing
// once, to the person at the terminal, and names no package of ours.
func TestCampaignsCommand_ErrorsSpeakToTheUserOnce(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string // the first line nurture prints on stderr
	}{
		{[]string{"preview", "welcom/01"}, `nurture campaigns: no sequence "welcom": did you mean welcome?`},
		{[]string{"preview", "webinar/01"}, `nurture campaigns: no sequence "webinar": the sequences are ebook-datensicherheit and welcome`},
		{[]string{"preview", "welcome/09"}, `nurture campaigns: welcome has no step "09": its steps are 01-welcome, 02-best-of and 03-quick-question`},
		{[]string{"preview", "welcome/best-off"}, `nurture campaigns: welcome has no step "best-off": did you mean 02-best-of?`},
		{[]string{"preview", "welcome"}, `nurture campaigns: name one step of welcome, such as welcome/01-welcome`},
		{[]string{"preview"}, `nurture campaigns: name one step, such as welcome/01-welcome`},
		{[]string{"preview", "welcome/01", "--bogus"}, `nurture campaigns: unknown option --bogus`},
		{[]string{"preview", "welcome/01", "--lead"}, `nurture campaigns: --lead needs a value`},
		{[]string{"preview", "welcome/01", "--lead", "anna@example.com"}, `nurture campaigns: --lead needs NURTURE_DATABASE_URL`},
		{[]string{"timeline", "welcom"}, `nurture campaigns: no sequence "welcom": did you mean welcome?`},
		{[]string{"timeline", "welcome", "--tz", "Mars/Base"}, `nurture campaigns: --tz Mars/Base: that is not a time zone; write one such as Europe/Berlin`},
		{[]string{"timeline", "welcome", "--start", "tomorrow"}, `nurture campaigns: --start "tomorrow": write a time such as 2026-03-02 10:00 or 2026-03-02T10:00:00+01:00`},
		{[]string{"send-test", "welcome/01"}, `nurture campaigns: name one step and the address to send it to with --to`},
		{[]string{"bogus"}, `nurture campaigns: unknown subcommand "bogus"`},
	} {
		var out, errs bytes.Buffer
		err := campaignsCommand(context.Background(), tt.args, shipped, &out, &errs)
		if err == nil {
			t.Errorf("%v: no error", tt.args)
			continue
		}
		var stderr bytes.Buffer
		exitStatus("campaigns", err, &stderr)
		first, rest, _ := strings.Cut(stderr.String(), "\n")
		if first != tt.want {
			t.Errorf("%v:\n got: %s\nwant: %s", tt.args, first, tt.want)
		}
		if strings.Contains(first, "campaign: ") || strings.Contains(rest, "nurture campaigns check [DIR]") && tt.args[0] != "bogus" {
			t.Errorf("%v: a package prefix, or the usage of every subcommand:\n%s", tt.args, stderr.String())
		}
	}
}

func TestCampaignsCommand_ReachesNoDatabaseInItsOwnWords(t *testing.T) {
	t.Parallel()
	settings := env(map[string]string{"NURTURE_CAMPAIGNS": "../../campaigns", "NURTURE_DATABASE_URL": "postgres://127.0.0.1:1/nurture?sslmode=disable&connect_timeout=2"})
	var out, errs bytes.Buffer
	err := campaignsCommand(context.Background(), []string{"preview", "welcome/01", "--lead", "anna@example.com"}, settings, &out, &errs)
	if err == nil || !strings.HasPrefix(err.Error(), "--lead: cannot reach the database (NURTURE_DATABASE_URL): ") || strings.Contains(err.Error(), "store:") {
		t.Errorf("error = %v", err)
	}
	err = campaignsCommand(context.Background(), []string{"preview", "welcome/01", "--lead", "anna.example.com"}, settings, &out, &errs)
	if err == nil || err.Error() != `--lead "anna.example.com" is not a valid email address` {
		t.Errorf("error = %v", err)
	}
}

// A preview of broken files says what check says: every problem, then
// the count, and exits 1 without another line.
func TestCampaignsPreview_OfBrokenFilesReportsLikeCheck(t *testing.T) {
	t.Parallel()
	var out, errs bytes.Buffer
	err := campaignsCommand(context.Background(), []string{"preview", "bad/01"}, env(map[string]string{"NURTURE_CAMPAIGNS": "../../internal/campaign/testdata/broken"}), &out, &errs)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Fatalf("err = %v", err)
	}
	lines := strings.Split(strings.TrimSpace(errs.String()), "\n")
	if last := lines[len(lines)-1]; last != "../../internal/campaign/testdata/broken: 34 errors, 2 warnings" {
		t.Errorf("last line %q", last)
	}
	if out.Len() != 0 {
		t.Errorf("stdout: %s", out.String())
	}
}
