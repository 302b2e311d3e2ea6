package config

import (
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/mailer"
)

// Config is every setting of `nurture serve`.
type Config struct {
	DatabaseURL    string
	SMTPURL        string
	SMTP           mailer.Config // SMTPURL parsed: the server, its TLS mode and login
	Listen         string
	BaseURL        *url.URL
	Secret         []byte
	From           string
	PostalAddress  string // the sender's postal address, in every step mail's footer
	PrivacyURL     string // the privacy policy, linked from every form and mail footer
	AdminToken     string
	Campaigns      string
	Templates      string
	Tick           time.Duration
	TrustedProxies []netip.Prefix
	RedirectHosts  []string // hosts a signup form may redirect to besides its own site and BaseURL's

	ConfirmTTL        time.Duration // how long a confirmation link works
	ConfirmInterval   time.Duration // at most one confirmation mail per address per interval
	PendingRetention  time.Duration // unconfirmed leads are purged after this
	RateIP            int           // signups per minute per IP
	RateEmail         int           // signups per hour per address
	SMTPConns         int
	SMTPRate          float64       // messages per second, 0 = unlimited
	SMTPReplyTimeout  time.Duration // the wait for the reply after a mail's data
	UnsubscribeMailto string
	DefaultTimezone   *time.Location
	DKIMDomain        string
	DKIMSelector      string
	DKIMKeyFile       string

	Tracking            string        // consent, all or off
	ScanWindow          time.Duration // clicks sooner after delivery look like scanners
	BurstWindow         time.Duration // clicks on several links within it look like scanners
	AppleEgressFile     string
	SiteHosts           []string // the marketer's own site, for ?nt= and /t.js
	SalesToken          string
	WebhookAllowPrivate bool

	Fast bool // serve --fast, the demo mode; not a setting
}

// Error names the setting that is missing or wrong.
type Error struct {
	Setting string
	Msg     string
}

func (e *Error) Error() string { return "config: " + e.Setting + ": " + e.Msg }

// Load validates every setting. need lists settings that must be present for
// the command at hand (serve needs all; migrate only the database).
func Load(get Source, need ...string) (*Config, error) {
	p := parser{get: get, need: map[string]bool{}}
	for _, n := range need {
		p.need[n] = true
	}
	c := &Config{
		DatabaseURL:         p.database("NURTURE_DATABASE_URL"),
		SMTPURL:             p.str("NURTURE_SMTP_URL"),
		SMTP:                p.smtp("NURTURE_SMTP_URL"),
		Listen:              p.addr("NURTURE_LISTEN"),
		BaseURL:             p.baseURL("NURTURE_BASE_URL"),
		Secret:              p.secret("NURTURE_SECRET"),
		From:                p.from("NURTURE_FROM"),
		PostalAddress:       p.line("NURTURE_POSTAL_ADDRESS"),
		PrivacyURL:          p.link("NURTURE_PRIVACY_URL"),
		AdminToken:          p.str("NURTURE_ADMIN_TOKEN"),
		Campaigns:           p.folder("NURTURE_CAMPAIGNS"),
		Templates:           p.str("NURTURE_TEMPLATES"),
		Tick:                p.duration("NURTURE_TICK"),
		TrustedProxies:      p.cidrs("NURTURE_TRUSTED_PROXIES"),
		RedirectHosts:       p.hosts("NURTURE_REDIRECT_HOSTS"),
		ConfirmTTL:          p.duration("NURTURE_CONFIRM_TTL"),
		ConfirmInterval:     p.duration("NURTURE_CONFIRM_INTERVAL"),
		PendingRetention:    p.duration("NURTURE_PENDING_RETENTION"),
		RateIP:              p.int("NURTURE_RATE_IP"),
		RateEmail:           p.int("NURTURE_RATE_EMAIL"),
		SMTPConns:           p.int("NURTURE_SMTP_CONNS"),
		SMTPRate:            p.float("NURTURE_SMTP_RATE"),
		SMTPReplyTimeout:    p.duration("NURTURE_SMTP_REPLY_TIMEOUT"),
		UnsubscribeMailto:   p.str("NURTURE_UNSUBSCRIBE_MAILTO"),
		DefaultTimezone:     p.location("NURTURE_DEFAULT_TIMEZONE"),
		DKIMDomain:          p.str("NURTURE_DKIM_DOMAIN"),
		DKIMSelector:        p.str("NURTURE_DKIM_SELECTOR"),
		DKIMKeyFile:         p.str("NURTURE_DKIM_KEY_FILE"),
		Tracking:            p.oneOf("NURTURE_TRACKING", "consent", "all", "off"),
		ScanWindow:          p.duration("NURTURE_SCAN_WINDOW"),
		BurstWindow:         p.duration("NURTURE_BURST_WINDOW"),
		AppleEgressFile:     p.str("NURTURE_APPLE_EGRESS_FILE"),
		SiteHosts:           p.hosts("NURTURE_SITE_HOSTS"),
		SalesToken:          p.str("NURTURE_SALES_TOKEN"),
		WebhookAllowPrivate: p.bool("NURTURE_WEBHOOK_ALLOW_PRIVATE"),
	}
	if p.err != nil {
		return nil, p.err
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return nil, &Error{"NURTURE_ADMIN_TOKEN", "must be at least 16 characters"}
	}
	if c.SalesToken != "" && len(c.SalesToken) < 16 {
		return nil, &Error{"NURTURE_SALES_TOKEN", "must be at least 16 characters"}
	}
	if c.SMTPConns < 1 {
		return nil, &Error{"NURTURE_SMTP_CONNS", "must be at least 1"}
	}
	if c.SMTPReplyTimeout != 0 && c.SMTPReplyTimeout < time.Second {
		return nil, &Error{"NURTURE_SMTP_REPLY_TIMEOUT", "must be at least 1s"}
	}
	if c.BurstWindow > time.Minute {
		// Every open and click waits this long before it scores.
		return nil, &Error{"NURTURE_BURST_WINDOW", "must be at most 1m: every open and click waits this long before it scores"}
	}
	if c.UnsubscribeMailto == "" && c.From != "" {
		c.UnsubscribeMailto = bareAddress(c.From)
	}
	if (c.DKIMDomain != "" || c.DKIMSelector != "" || c.DKIMKeyFile != "") &&
		(c.DKIMDomain == "" || c.DKIMSelector == "" || c.DKIMKeyFile == "") {
		return nil, &Error{"NURTURE_DKIM_KEY_FILE", "DKIM needs NURTURE_DKIM_DOMAIN, NURTURE_DKIM_SELECTOR and NURTURE_DKIM_KEY_FILE together"}
	}
	return c, nil
}

// ServeNeeds are the settings `nurture serve` cannot start without.
var ServeNeeds = []string{"NURTURE_DATABASE_URL", "NURTURE_SMTP_URL", "NURTURE_BASE_URL", "NURTURE_SECRET", "NURTURE_FROM", "NURTURE_ADMIN_TOKEN"}

// bareAddress returns the addr-spec of "Name <addr>" or addr itself.
func bareAddress(s string) string {
	if i, j := strings.LastIndexByte(s, '<'), strings.LastIndexByte(s, '>'); i >= 0 && j > i {
		return s[i+1 : j]
	}
	return strings.TrimSpace(s)
}
