package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/funnel"
	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
)

const scoresUsage = `Usage:
  nurture scores explain EMAIL   why a lead stands at its score: fit, engagement with decay, stages
  nurture scores recompute       replay every lead's history under the current scoring.yaml`

// runScores is `nurture scores …`.
func runScores(ctx context.Context, args []string, stdout io.Writer) error {
	return scoresCommand(ctx, args, config.FromEnv, time.Now, stdout)
}

func scoresCommand(ctx context.Context, args []string, settings func() (config.Source, error), now func() time.Time, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("a subcommand is missing\n%s", scoresUsage)
	}
	get, err := settings()
	if err != nil {
		return err
	}
	switch args[0] {
	case "explain":
		if len(args) != 2 {
			return fmt.Errorf("name one lead by its address\n%s", scoresUsage)
		}
		return scoresExplain(ctx, get, args[1], now, stdout)
	case "recompute":
		if len(args) != 1 {
			return fmt.Errorf("recompute takes no arguments\n%s", scoresUsage)
		}
		return scoresRecompute(ctx, get, now, stdout)
	}
	return fmt.Errorf("unknown subcommand %q\n%s", args[0], scoresUsage)
}

func scoresExplain(ctx context.Context, get config.Source, email string, now func() time.Time, stdout io.Writer) error {
	cfg, err := config.Load(get, "NURTURE_DATABASE_URL")
	if err != nil {
		return err
	}
	set, err := loadSet(cfg, os.Stderr)
	if err != nil {
		return err
	}
	if set.Scoring == nil {
		return fmt.Errorf("%s has no %s: there is no score to explain", cfg.Campaigns, campaign.ScoringFile)
	}
	st, closeStore, err := consentStore(cfg)
	if err != nil {
		return fmt.Errorf("cannot explain a score: %v", err)
	}
	defer closeStore()
	svc := funnel.New(st, slog.New(slog.DiscardHandler), now, funnel.Config{Rules: func() *scoring.Rules { return set.Scoring }})
	e, err := svc.Explain(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no lead with the address %s", email)
	}
	if err != nil {
		return err
	}
	writeExplanation(stdout, e)
	return nil
}

// writeExplanation prints a lead's ledger for a person from sales.
func writeExplanation(w io.Writer, e *funnel.Explanation) {
	l := e.Lead
	fmt.Fprintf(w, "%s: score %d = fit %d + engagement %d (%s), stage %s, as of %s\n",
		l.Email, e.Score(), e.Fit, e.Engagement.Points, e.Temperature, l.Stage, stamp(e.At))
	fmt.Fprintf(w, "\nFit %d, from who the lead is:\n", e.Fit)
	if len(e.FitRows) == 0 {
		fmt.Fprintln(w, "  no fit rule holds")
	}
	for _, r := range e.FitRows {
		fmt.Fprintf(w, "  %s  %s\n", stamp(r.At), reason(r))
	}
	fmt.Fprintf(w, "\nEngagement %d, from what the lead did", e.Engagement.Points)
	if e.HalfLife > 0 {
		fmt.Fprintf(w, " (%d earned; every point halves in %s)", e.Engagement.Raw, days(e.HalfLife))
	}
	fmt.Fprintln(w, ":")
	if len(e.Rows) == 0 {
		fmt.Fprintln(w, "  nothing yet")
	}
	for _, r := range e.Rows {
		line := fmt.Sprintf("  %s  %s", stamp(r.At), reason(r.ScoreEntry))
		if e.HalfLife > 0 && r.Points != 0 {
			line += fmt.Sprintf(", worth %.1f now", r.Now)
		}
		fmt.Fprintln(w, line)
	}
	for _, r := range e.Engagement.Reasons {
		fmt.Fprintf(w, "  %-16s  %s\n", "decay", r.String())
	}
	if len(e.Stages) > 0 {
		fmt.Fprintln(w, "\nStages:")
	}
	for _, s := range e.Stages {
		fmt.Fprintf(w, "  %s  %s → %s by %s", stamp(s.At), s.From, s.To, s.Actor)
		if s.Reason != "" {
			fmt.Fprintf(w, ": %s", s.Reason)
		}
		fmt.Fprintln(w)
	}
}

func reason(e store.ScoreEntry) string {
	return scoring.Reason{Rule: e.Rule, Line: e.Line, Signal: e.Signal, Ref: e.Ref, Points: e.Points, Note: e.Note}.String()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// scoresRecompute replays the scores with the server's own wiring, so
// that a lead the replay makes an MQL goes to sales as it would in serve.
func scoresRecompute(ctx context.Context, get config.Source, now func() time.Time, stdout io.Writer) error {
	cfg, err := config.Load(get, config.ServeNeeds...)
	if err != nil {
		return err
	}
	a, err := wire(ctx, cfg, newLogger(), now)
	if err != nil {
		return err
	}
	defer a.close()
	r, err := a.funnel.Recompute(ctx)
	if errors.Is(err, funnel.ErrNoRules) {
		return fmt.Errorf("%s has no %s: there is nothing to score by", cfg.Campaigns, campaign.ScoringFile)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "recomputed %s under %s: %s changed, %s became %s\n", count(r.Leads, "lead", "leads"),
		strings.TrimPrefix(a.seq.set().Scoring.Path, "./"), count(r.Changed, "ledger", "ledgers"), count(r.MQLs, "lead", "leads"),
		map[bool]string{true: "an MQL", false: "MQLs"}[r.MQLs == 1])
	return nil
}
