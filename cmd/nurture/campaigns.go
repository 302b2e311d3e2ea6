package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
)

const campaignsUsage = `Usage:
  nurture campaigns check [DIR]
  nurture campaigns preview SEQUENCE/STEP [--lead EMAIL | --sample] [--html | --text | --raw]
  nurture campaigns preview forms/FORM
  nurture campaigns timeline SEQUENCE [--start TIME] [--tz ZONE]
  nurture campaigns send-test SEQUENCE/STEP --to ADDRESS [--lead EMAIL]`

// runCampaigns is `nurture campaigns …`: the marketers' tools. The work is
// done by the campaign package; this only parses flags and wires.
func runCampaigns(ctx context.Context, args []string, stdout io.Writer) error {
	return campaignsCommand(ctx, args, config.FromEnv, stdout, os.Stderr)
}

// campaignsCommand is runCampaigns with its own settings (config.FromEnv
// reads the environment) and its own stderr, for notes and problems that
// must not mix with a preview sent to a file.
func campaignsCommand(ctx context.Context, args []string, settings func() (config.Source, error), stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("a subcommand is missing\n%s", campaignsUsage)
	}
	get, err := settings()
	if err != nil {
		return err
	}
	cfg, err := config.Load(get)
	if err != nil {
		return err
	}
	switch args[0] {
	case "check":
		return campaignsCheck(args[1:], cfg, stdout, stderr)
	case "preview":
		return campaignsPreview(ctx, args[1:], cfg, stdout, stderr)
	case "timeline":
		return campaignsTimeline(args[1:], cfg, stdout, stderr)
	case "send-test":
		return campaignsSendTest(ctx, args[1:], cfg, stdout, stderr)
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
			return nil, fmt.Errorf("%s\n%s", flagError(err), usageOf(fs.Name()))
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// flagError words the flag package's errors as the usage does, with two
// dashes.
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown option --" + strings.TrimPrefix(name, "-")
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "--" + strings.TrimPrefix(name, "-") + " needs a value"
	}
	return msg
}

// usageOf is the usage line of one subcommand.
func usageOf(sub string) string {
	for _, l := range strings.Split(campaignsUsage, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "nurture campaigns "+sub+" ") {
			return "Usage:\n" + l
		}
	}
	return campaignsUsage
}

func campaignsCheck(args []string, cfg *config.Config, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	dir := cfg.Campaigns
	if len(pos) > 0 {
		dir = pos[0]
	}
	var vets []campaign.Vet
	if st, closeStore, err := consentStore(cfg); err != nil {
		fmt.Fprintf(stderr, "note: %v, so the check skipped the forms' consent versions against those the server has kept\n", err)
	} else {
		defer closeStore()
		vets = append(vets, checkConsents(st))
	}
	set, ps := campaign.Check(dir, templateFS(cfg.Templates), vets...)
	if err := writeCheck(stdout, dir, set, ps); err != nil {
		return exitCode(1)
	}
	return nil
}

// consentStore opens the database whose consent versions check compares
// the forms with.
func consentStore(cfg *config.Config) (*store.Store, func(), error) {
	if cfg.DatabaseURL == "" {
		return nil, nil, errors.New("NURTURE_DATABASE_URL is not set")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("the database is not reachable (%v)", err)
	}
	st, err := store.New(ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("the database cannot be read (%v)", err)
	}
	return st, func() { st.Close(); db.Close() }, nil
}

// loadSet loads the campaigns, printing the problems when they have errors.
func loadSet(cfg *config.Config, stderr io.Writer) (*campaign.Set, error) {
	set, ps := campaign.Check(cfg.Campaigns, templateFS(cfg.Templates))
	if set == nil {
		// The same report as check gives: each problem, then the count.
		writeCheck(stderr, cfg.Campaigns, set, ps)
		return nil, exitCode(1)
	}
	return set, nil
}

// withoutPrefix is an error's message without the package prefixes
// ("store: connect: ") that speak of our code rather than to the user.
func withoutPrefix(err error) string {
	msg := err.Error()
	for {
		word, rest, ok := strings.Cut(msg, ": ")
		if !ok || !slices.Contains([]string{"store", "connect", "open", "migrate", "lead by email", "mailer", "dispatch"}, word) {
			return msg
		}
		msg = rest
	}
}

// composerFor is the composer serve uses: DKIM-signing when configured.
func composerFor(cfg *config.Config) (*mailer.Composer, error) {
	var c mailer.Config
	if cfg.DKIMKeyFile != "" {
		key, err := os.ReadFile(cfg.DKIMKeyFile)
		if err != nil {
			return nil, fmt.Errorf("config: NURTURE_DKIM_KEY_FILE: %w", err)
		}
		c.DKIMDomain, c.DKIMSelector, c.DKIMKeyPEM = cfg.DKIMDomain, cfg.DKIMSelector, key
	}
	return mailer.NewComposer(c)
}

func campaignsTimeline(args []string, cfg *config.Config, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("timeline", flag.ContinueOnError)
	start := fs.String("start", "", "when the lead confirms, such as 2026-03-27 16:30 (default now)")
	tz := fs.String("tz", "", "the lead's time zone, such as Europe/Berlin")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("name one sequence, such as welcome\n%s", usageOf("timeline"))
	}
	set, err := loadSet(cfg, stderr)
	if err != nil {
		return err
	}
	q, err := set.LookupSequence(pos[0])
	if err != nil {
		return err
	}
	z, err := timelineZone(q, *tz, cfg.DefaultTimezone)
	if err != nil {
		return err
	}
	at, err := parseStart(*start, z.Loc, time.Now())
	if err != nil {
		return err
	}
	return formatTimeline(stdout, q, at, z, campaign.Timeline(q, at, z.Loc))
}

func campaignsSendTest(ctx context.Context, args []string, cfg *config.Config, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("send-test", flag.ContinueOnError)
	to := fs.String("to", "", "the address to send the test to")
	email := fs.String("lead", "", "render for this lead from the database instead of the sample lead")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *to == "" {
		return fmt.Errorf("name one step and the address to send it to with --to\n%s", usageOf("send-test"))
	}
	if cfg.SMTPURL == "" || cfg.From == "" {
		return errors.New("send-test needs NURTURE_SMTP_URL and NURTURE_FROM")
	}
	smtpCfg := cfg.SMTP // parsed and checked by config.Load
	sm, msg, _, err := composeStep(ctx, cfg, pos[0], *email, stderr)
	if err != nil {
		return err
	}
	// The test copy goes elsewhere and says so. It offers no one-click
	// unsubscribe: a mail client's button would unsubscribe the lead it
	// was rendered for.
	msg.To, msg.Subject = *to, "[TEST] "+msg.Subject
	msg.ListUnsubscribeURL, msg.ListUnsubscribeMailto = "", ""
	raw, err := sm.Composer.Compose(msg)
	if err != nil {
		return err
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return fmt.Errorf("NURTURE_FROM: %w", err)
	}
	smtpCfg.Conns = 1
	pool := mailer.NewPool(smtpCfg, newLogger())
	defer pool.Close(context.WithoutCancel(ctx))
	if err := pool.Send(ctx, from.Address, *to, raw); err != nil {
		return fmt.Errorf("the test mail was not sent: %s", withoutPrefix(err))
	}
	fmt.Fprintf(stdout, "sent %s to %s\n", pos[0], *to)
	return nil
}
