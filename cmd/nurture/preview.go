package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
	"github.com/nurture/nurture/internal/web"
)

// previewLead is the sample lead, or the lead from the database with this
// address.
func previewLead(ctx context.Context, cfg *config.Config, email string) (*lead.Lead, error) {
	if email == "" {
		return campaign.SampleLead(), nil
	}
	if cfg.DatabaseURL == "" {
		return nil, errors.New("--lead needs NURTURE_DATABASE_URL")
	}
	addr, err := lead.NormalizeEmail(email)
	if err != nil {
		return nil, fmt.Errorf("--lead %q %v", email, err)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("--lead: cannot reach the database (NURTURE_DATABASE_URL): %s", withoutPrefix(err))
	}
	defer db.Close()
	st, err := store.New(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("--lead: the database (NURTURE_DATABASE_URL): %s", withoutPrefix(err))
	}
	defer st.Close()
	l, err := st.LeadByEmail(ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("--lead %s: there is no lead with this address", email)
	}
	if err != nil {
		return nil, fmt.Errorf("--lead %s: %s", email, withoutPrefix(err))
	}
	return &l.Lead, nil
}

// sampleLinks stand in for the server's links when NURTURE_BASE_URL or
// NURTURE_SECRET is not set.
type sampleLinks struct{}

func (sampleLinks) URL(path string) string         { return campaign.SampleBaseURL + path }
func (sampleLinks) Unsubscribe(int64) string       { return campaign.SampleUnsubscribeURL }
func (sampleLinks) UnsubscribeMailto(int64) string { return "" }
func (sampleLinks) Tracking(int64) string          { return campaign.SampleBaseURL + "/tracking/sample" }

// stepMail makes step mails the way the server does, from the same
// settings; where one is missing it takes the sample's value and says so
// on stderr. From is needed only when the mail is composed for SMTP.
func stepMail(cfg *config.Config, stderr io.Writer) (*dispatch.StepMail, error) {
	composer, err := composerFor(cfg)
	if err != nil {
		return nil, err
	}
	m := &dispatch.StepMail{From: cfg.From, Footer: cfg.PostalAddress, Privacy: cfg.PrivacyURL, Links: sampleLinks{}, Composer: composer}
	if cfg.BaseURL != nil && len(cfg.Secret) > 0 {
		m.Links = link.New(cfg.BaseURL, token.NewSigner(cfg.Secret), cfg.UnsubscribeMailto)
	} else {
		fmt.Fprintf(stderr, "note: NURTURE_BASE_URL and NURTURE_SECRET are not both set; links use the sample address %s\n", campaign.SampleBaseURL)
	}
	if m.Footer == "" {
		m.Footer = campaign.SampleFooter
		fmt.Fprintln(stderr, "note: NURTURE_POSTAL_ADDRESS is not set, so the server sends no postal address; the footer shows a sample one")
	}
	if m.From == "" {
		m.From = campaign.SampleFrom
	}
	return m, nil
}

// composeStep renders step ref for the lead with this address (the sample
// lead when it is empty) and composes its mail, exactly as the server
// would send it now.
func composeStep(ctx context.Context, cfg *config.Config, ref, email string, stderr io.Writer) (*dispatch.StepMail, mailer.Message, campaign.Rendered, error) {
	set, err := loadSet(cfg, stderr)
	if err != nil {
		return nil, mailer.Message{}, campaign.Rendered{}, err
	}
	st, err := set.Lookup(ref)
	if err != nil {
		return nil, mailer.Message{}, campaign.Rendered{}, err
	}
	l, err := previewLead(ctx, cfg, email)
	if err != nil {
		return nil, mailer.Message{}, campaign.Rendered{}, err
	}
	sm, err := stepMail(cfg, stderr)
	if err != nil {
		return nil, mailer.Message{}, campaign.Rendered{}, err
	}
	from, err := mail.ParseAddress(sm.From)
	if err != nil {
		return nil, mailer.Message{}, campaign.Rendered{}, fmt.Errorf("NURTURE_FROM: %w", err)
	}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	msg, r, err := sm.Mail(st, l, mailer.NewMessageID(domain), time.Now())
	return sm, msg, r, err
}

func campaignsPreview(ctx context.Context, args []string, cfg *config.Config, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("preview", flag.ContinueOnError)
	email := fs.String("lead", "", "render for this lead from the database")
	fs.Bool("sample", false, "render for the sample lead (the default)")
	html := fs.Bool("html", false, "print only the HTML part")
	text := fs.Bool("text", false, "print only the text part")
	raw := fs.Bool("raw", false, "print the composed message: headers and MIME, as it goes to SMTP")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("name one step, such as welcome/01-welcome\n%s", usageOf("preview"))
	}
	show, n := partAll, 0
	for _, p := range []struct {
		set  bool
		part part
	}{{*html, partHTML}, {*text, partText}, {*raw, partRaw}} {
		if p.set {
			show, n = p.part, n+1
		}
	}
	if n > 1 {
		return errors.New("--html, --text and --raw exclude each other")
	}
	if slug, ok := strings.CutPrefix(strings.Trim(pos[0], "/"), campaign.FormsDir+"/"); ok {
		if show != partAll && show != partHTML {
			return errors.New("a form previews as its page's HTML: drop --text and --raw")
		}
		return previewForm(cfg, strings.TrimSuffix(slug, ".md"), stdout, stderr)
	}
	sm, msg, r, err := composeStep(ctx, cfg, pos[0], *email, stderr)
	if err != nil {
		return err
	}
	b, err := sm.Composer.Compose(msg)
	if err != nil {
		return err
	}
	return writePreview(stdout, r, b, show)
}

// previewForm writes the page of form slug, as GET /subscribe/{form}
// shows it.
func previewForm(cfg *config.Config, slug string, stdout, stderr io.Writer) error {
	set, err := loadSet(cfg, stderr)
	if err != nil {
		return err
	}
	f := set.Forms.Get(slug)
	if f == nil {
		names := make([]string, len(set.Forms))
		for i, f := range set.Forms {
			names[i] = f.Slug
		}
		return fmt.Errorf("no form %q (there are: %s)", slug, strings.Join(names, ", "))
	}
	base := cfg.BaseURL
	if base == nil {
		base, _ = url.Parse(campaign.SampleBaseURL)
	}
	return web.RenderForm(stdout, base, cfg.PrivacyURL, f)
}
