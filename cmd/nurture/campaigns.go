package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
)

const campaignsUsage = `Usage:
  nurture campaigns check [DIR]
  nurture campaigns preview SEQUENCE/STEP [--lead EMAIL | --sample] [--html | --text]
  nurture campaigns timeline SEQUENCE [--start TIME] [--tz ZONE]
  nurture campaigns send-test SEQUENCE/STEP --to ADDRESS [--lead EMAIL]`

// runCampaigns is `nurture campaigns …`: the marketers' tools. The work is
// done by the campaign package; this only parses flags and wires.
func runCampaigns(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("a subcommand is missing\n%s", campaignsUsage)
	}
	get, err := config.FromEnv()
	if err != nil {
		return err
	}
	cfg, err := config.Load(get)
	if err != nil {
		return err
	}
	switch args[0] {
	case "check":
		return campaignsCheck(args[1:], cfg, stdout)
	case "preview":
		return campaignsPreview(ctx, args[1:], cfg, stdout)
	case "timeline":
		return campaignsTimeline(args[1:], cfg, stdout)
	case "send-test":
		return campaignsSendTest(ctx, args[1:], cfg, stdout)
	}
	return fmt.Errorf("unknown subcommand %q\n%s", args[0], campaignsUsage)
}

// parseArgs parses flags wherever they stand among the positional
// arguments, and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w\n%s", err, campaignsUsage)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func campaignsCheck(args []string, cfg *config.Config, stdout io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	dir := cfg.Campaigns
	if len(pos) > 0 {
		dir = pos[0]
	}
	if _, err := campaign.Check(stdout, dir, templateFS(cfg.Templates)); err != nil {
		return exitCode(1)
	}
	return nil
}

// loadSet loads the campaigns, printing the problems when they have errors.
func loadSet(cfg *config.Config) (*campaign.Set, error) {
	set, ps := campaign.Load(cfg.Campaigns, templateFS(cfg.Templates))
	if set == nil {
		for _, p := range ps {
			fmt.Fprintln(os.Stderr, p)
		}
		return nil, exitCode(1)
	}
	return set, nil
}

// renderData is the sample lead, or a lead from the database with its own
// unsubscribe link.
func renderData(ctx context.Context, cfg *config.Config, email string) (campaign.Data, error) {
	d := campaign.SampleData()
	if email == "" {
		return d, nil
	}
	if cfg.DatabaseURL == "" {
		return d, errors.New("--lead needs NURTURE_DATABASE_URL")
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return d, err
	}
	defer db.Close()
	st, err := store.New(ctx, db)
	if err != nil {
		return d, err
	}
	defer st.Close()
	addr, err := lead.NormalizeEmail(email)
	if err != nil {
		return d, err
	}
	l, err := st.LeadByEmail(ctx, addr)
	if err != nil {
		return d, fmt.Errorf("lead %s: %w", email, err)
	}
	d.Lead = &l.Lead
	if cfg.BaseURL != nil && len(cfg.Secret) > 0 {
		links := link.New(cfg.BaseURL, token.NewSigner(cfg.Secret), cfg.UnsubscribeMailto)
		d.BaseURL, d.UnsubscribeURL = links.URL(""), links.Unsubscribe(l.ID)
	}
	return d, nil
}

func campaignsPreview(ctx context.Context, args []string, cfg *config.Config, stdout io.Writer) error {
	fs := flag.NewFlagSet("preview", flag.ContinueOnError)
	email := fs.String("lead", "", "render for this lead from the database")
	fs.Bool("sample", false, "render for the sample lead (the default)")
	html := fs.Bool("html", false, "print only the HTML part")
	text := fs.Bool("text", false, "print only the text part")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("name one step, such as welcome/01-hello\n%s", campaignsUsage)
	}
	r, err := renderStep(ctx, cfg, pos[0], *email)
	if err != nil {
		return err
	}
	part := campaign.PartAll
	switch {
	case *html && *text:
		return errors.New("--html and --text exclude each other")
	case *html:
		part = campaign.PartHTML
	case *text:
		part = campaign.PartText
	}
	return campaign.WritePreview(stdout, r, part)
}

func campaignsTimeline(args []string, cfg *config.Config, stdout io.Writer) error {
	fs := flag.NewFlagSet("timeline", flag.ContinueOnError)
	start := fs.String("start", "", "when the lead confirms, such as 2026-03-27 16:30 (default now)")
	tz := fs.String("tz", "", "the lead's time zone, such as Europe/Berlin")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("name one sequence\n%s", campaignsUsage)
	}
	set, err := loadSet(cfg)
	if err != nil {
		return err
	}
	q := set.Sequence(strings.Trim(pos[0], "/"))
	if q == nil {
		return fmt.Errorf("no sequence %q", pos[0])
	}
	loc, err := campaign.TimelineZone(q, *tz, cfg.DefaultTimezone)
	if err != nil {
		return err
	}
	at, err := campaign.ParseStart(*start, loc, time.Now())
	if err != nil {
		return err
	}
	return campaign.FormatTimeline(stdout, q, at, loc, campaign.Timeline(q, at, loc))
}

func campaignsSendTest(ctx context.Context, args []string, cfg *config.Config, stdout io.Writer) error {
	fs := flag.NewFlagSet("send-test", flag.ContinueOnError)
	to := fs.String("to", "", "the address to send the test to")
	email := fs.String("lead", "", "render for this lead from the database instead of the sample lead")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *to == "" {
		return fmt.Errorf("name one step and --to\n%s", campaignsUsage)
	}
	if cfg.SMTPURL == "" || cfg.From == "" {
		return errors.New("send-test needs NURTURE_SMTP_URL and NURTURE_FROM")
	}
	r, err := renderStep(ctx, cfg, pos[0], *email)
	if err != nil {
		return err
	}
	smtpCfg, err := mailer.ParseURL(cfg.SMTPURL)
	if err != nil {
		return err
	}
	smtpCfg.Conns = 1
	composer, err := mailer.NewComposer(smtpCfg)
	if err != nil {
		return err
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return fmt.Errorf("NURTURE_FROM: %w", err)
	}
	raw, err := composer.Compose(mailer.Message{
		From: cfg.From, To: *to, Subject: "[TEST] " + r.Subject,
		HTML: r.HTML, Text: r.Text, Date: time.Now(),
		MessageID: mailer.NewMessageID(from.Address[strings.LastIndexByte(from.Address, '@')+1:]),
	})
	if err != nil {
		return err
	}
	pool := mailer.NewPool(smtpCfg, newLogger())
	defer pool.Close(context.WithoutCancel(ctx))
	if err := pool.Send(ctx, from.Address, *to, raw); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sent %s to %s\n", pos[0], *to)
	return nil
}

// renderStep renders one step exactly as it would be sent, for the lead
// with this address or, when email is empty, the sample lead.
func renderStep(ctx context.Context, cfg *config.Config, ref, email string) (campaign.Rendered, error) {
	set, err := loadSet(cfg)
	if err != nil {
		return campaign.Rendered{}, err
	}
	d, err := renderData(ctx, cfg, email)
	if err != nil {
		return campaign.Rendered{}, err
	}
	return set.Preview(ref, d)
}
