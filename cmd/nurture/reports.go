package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/report"
)

const reportUsage = `Usage:
  nurture report engagement [--sequence S] [--since 2026-11-01]
                                 opens and clicks per step and link, raw beside counted`

// runReport is `nurture report …`.
func runReport(ctx context.Context, args []string, stdout io.Writer) error {
	return reportCommand(ctx, args, config.FromEnv, stdout)
}

func reportCommand(ctx context.Context, args []string, settings func() (config.Source, error), stdout io.Writer) error {
	if len(args) == 0 || args[0] != "engagement" {
		if len(args) == 0 {
			return fmt.Errorf("a report is missing\n%s", reportUsage)
		}
		return fmt.Errorf("unknown report %q\n%s", args[0], reportUsage)
	}
	fs := flag.NewFlagSet("engagement", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sequence := fs.String("sequence", "", "")
	since := fs.String("since", "", "")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%s\n%s", flagError(err), reportUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), reportUsage)
	}
	f := report.Filter{Sequence: *sequence}
	if *since != "" {
		t, err := time.Parse(time.DateOnly, *since)
		if err != nil {
			return fmt.Errorf("--since: %q is not a day such as 2026-11-01", *since)
		}
		f.Since = t
	}
	get, err := settings()
	if err != nil {
		return err
	}
	cfg, err := config.Load(get, "NURTURE_DATABASE_URL")
	if err != nil {
		return err
	}
	st, closeStore, err := consentStore(cfg)
	if err != nil {
		return fmt.Errorf("cannot report: %v", err)
	}
	defer closeStore()
	set, _ := campaign.Check(cfg.Campaigns, templateFS(cfg.Templates)) // only for the steps' order
	e, err := report.New(st, func() []string { return stepKeys(set) }).Engagement(ctx, f)
	if err != nil {
		return err
	}
	writeEngagement(stdout, e)
	return nil
}

// stepKeys is every step key of the campaigns, in their order; none
// without campaigns.
func stepKeys(set *campaign.Set) []string {
	if set == nil {
		return nil
	}
	var keys []string
	for _, q := range set.Sequences {
		for _, st := range q.Steps {
			keys = append(keys, st.Key())
		}
	}
	return keys
}

// writeEngagement prints the report as two aligned tables, the steps and
// their links, each raw figure beside its counted one.
func writeEngagement(w io.Writer, e *report.Engagement) {
	scope := "every sequence"
	if e.Filter.Sequence != "" {
		scope = "sequence " + e.Filter.Sequence
	}
	if !e.Filter.Since.IsZero() {
		scope += ", delivered since " + e.Filter.Since.UTC().Format(time.DateOnly)
	}
	fmt.Fprintf(w, "Engagement of the mails of %s.\n", scope)
	fmt.Fprintln(w, "raw: every open and click recorded; counted: verdicts human and image_proxy (a mail clicked with no")
	fmt.Fprintln(w, "counted open counts one open); openers and clickers are leads, counted; by verdict: the raw hits.")
	if len(e.Sequences) == 0 {
		fmt.Fprintln(w, "\nNo mails.")
		return
	}
	steps := [][]string{{"STEP", "SENT", "OPENS RAW", "COUNTED", "CLICKS RAW", "COUNTED", "OPENERS", "CLICKERS",
		"HUMAN", "IMAGE_PROXY", "APPLE_MPP", "SCANNER", "PREFETCH"}}
	links := [][]string{{"STEP", "LINK", "URL", "CLICKS RAW", "COUNTED"}}
	for _, q := range e.Sequences {
		for _, s := range q.Steps {
			v := s.Verdicts
			steps = append(steps, append([]string{s.Key}, numbers(s.Sent, s.Opens.Raw, s.Opens.Counted, s.Clicks.Raw, s.Clicks.Counted,
				s.Openers, s.Clickers, v.Human, v.ImageProxy, v.AppleMPP, v.Scanner, v.Prefetch)...))
			for _, l := range s.Links {
				text, url := l.Text, l.URL
				if l.Honeypot {
					text, url = "(honeypot, no person sees it)", ""
				}
				links = append(links, append([]string{s.Key, text, url}, numbers(l.Clicks.Raw, l.Clicks.Counted)...))
			}
		}
	}
	fmt.Fprintln(w)
	writeTable(w, steps, 1)
	if len(links) > 1 {
		fmt.Fprintln(w)
		writeTable(w, links, 3)
	}
}

func numbers(ns ...int64) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = strconv.FormatInt(n, 10)
	}
	return out
}

// writeTable prints rows in columns two spaces apart: the first left
// columns aligned left, the others (numbers) right.
func writeTable(w io.Writer, rows [][]string, left int) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < left {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
