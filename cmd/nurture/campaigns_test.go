package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCampaignsCheck_BrokenFixturesReportPathLineAndExit1(t *testing.T) {
	var out bytes.Buffer
	err := runCampaigns(context.Background(), []string{"check", "../../internal/campaign/testdata/broken"}, &out)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Fatalf("exit: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"testdata/broken/bad/01-welcome.md:2: unknown key \"subjet\": did you mean \"subject\"?",
		"testdata/broken/bad/01-welcome.md:3: delay \"3 days\"",
		"testdata/broken/bad/01-welcome.md:7: link \"/pricing\" is not a full address",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCampaignsCheck_ShippedCampaignsAreValid(t *testing.T) {
	var out bytes.Buffer
	if err := runCampaigns(context.Background(), []string{"check", "../../campaigns"}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
}

func TestCampaignsPreview_PrintsTheSampleMail(t *testing.T) {
	t.Setenv("NURTURE_CAMPAIGNS", "../../campaigns")
	var out bytes.Buffer
	if err := runCampaigns(context.Background(), []string{"preview", "welcome/01", "--sample", "--text"}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Hi Jana,") || strings.Contains(out.String(), "<p>") {
		t.Fatalf("text preview:\n%s", out.String())
	}
}

func TestCampaignsTimeline_AppliesTheWindowInTheLeadsZone(t *testing.T) {
	t.Setenv("NURTURE_CAMPAIGNS", "../../campaigns")
	var out bytes.Buffer
	err := runCampaigns(context.Background(), []string{"timeline", "ebook-datensicherheit", "--start", "2026-03-26 10:00", "--tz", "Europe/Berlin"}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	// Two days after Thursday is Saturday: the Mon-Fri window moves it to
	// Monday 09:00, which is summer time after the 29 March change.
	if !strings.Contains(out.String(), "Mon 2026-03-30 09:00 CEST") {
		t.Fatalf("timeline:\n%s", out.String())
	}
}
