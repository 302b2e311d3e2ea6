package config

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/nurture/nurture/internal/dsn"
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

	Fast bool // serve --fast, the demo mode; not a setting
}

// Setting documents one setting; the README's table lists the same.
type Setting struct {
	Name, Default, Meaning string
}

// Settings are all settings in the order the README documents them.
var Settings = []Setting{
	{"NURTURE_DATABASE_URL", "", "Postgres connection URL (`postgres://…`) or `key=value` string, as lib/pq reads it"},
	{"NURTURE_SMTP_URL", "", "`smtp://[user:pass@]host:port`; `smtps://` means implicit TLS; `?starttls=required` makes STARTTLS mandatory"},
	{"NURTURE_LISTEN", "127.0.0.1:8080", "listen address"},
	{"NURTURE_BASE_URL", "", "the public URL used in every link in mail, without query or fragment"},
	{"NURTURE_SECRET", "", "token signing key, at least 32 bytes"},
	{"NURTURE_FROM", "", "From address, e.g. `Acme <news@acme.example>`"},
	{"NURTURE_POSTAL_ADDRESS", "", "the sender's postal address, which commercial mail must carry; the footer of every sequence mail shows it, e.g. `Acme GmbH · Hafenstraße 1 · 20457 Hamburg · Germany`"},
	{"NURTURE_PRIVACY_URL", "", "the address of your privacy policy, such as `https://www.acme.example/privacy`; every signup form and the footer of every mail link to it"},
	{"NURTURE_ADMIN_TOKEN", "", "bearer token for the admin API"},
	{"NURTURE_CAMPAIGNS", "./campaigns", "campaign files folder; one set explicitly must exist, a missing default only means no sequences run"},
	{"NURTURE_TEMPLATES", "", "templates folder overriding the built-in templates"},
	{"NURTURE_TICK", "5s", "scheduler poll interval"},
	{"NURTURE_TRUSTED_PROXIES", "", "comma-separated CIDRs whose X-Forwarded-For header is believed"},
	{"NURTURE_REDIRECT_HOSTS", "", "comma-separated hosts (`www.acme.example`, with `:port` when not the default) a form's `redirect` may lead to, besides the site whose form posted and the base URL's host"},
	{"NURTURE_CONFIRM_TTL", "72h", "how long a confirmation link works"},
	{"NURTURE_CONFIRM_INTERVAL", "24h", "at most one confirmation mail per address in this interval"},
	{"NURTURE_PENDING_RETENTION", "720h", "a lead that never confirmed is deleted once its first signup and its last confirmation mail are this old (30 days)"},
	{"NURTURE_RATE_IP", "60", "signups per minute from one IP (an IPv6 client counts per /64)"},
	{"NURTURE_RATE_EMAIL", "5", "signups per hour for one address"},
	{"NURTURE_SMTP_CONNS", "4", "SMTP connections kept open"},
	{"NURTURE_SMTP_RATE", "0", "messages per second at most, 0 for no limit"},
	{"NURTURE_SMTP_REPLY_TIMEOUT", "10m", "how long to wait for the server's reply after a mail's data (RFC 5321 suggests 10 minutes); a mail whose reply never came is sent again and counted in `repeats`"},
	{"NURTURE_UNSUBSCRIBE_MAILTO", "", "address for the `mailto:` in List-Unsubscribe; defaults to the From address"},
	{"NURTURE_DEFAULT_TIMEZONE", "UTC", "time zone for leads that did not give one"},
	{"NURTURE_DKIM_DOMAIN", "", "DKIM signing domain; signing is on when this, the selector and the key are set"},
	{"NURTURE_DKIM_SELECTOR", "", "DKIM selector"},
	{"NURTURE_DKIM_KEY_FILE", "", "PEM file with the DKIM private key (RSA or Ed25519)"},
	{"NURTURE_CONFIG", "", "optional YAML file with any of these settings, e.g. `smtp_url: smtp://…`; the environment wins"},
}

// Error names the setting that is missing or wrong.
type Error struct {
	Setting string
	Msg     string
}

func (e *Error) Error() string { return "config: " + e.Setting + ": " + e.Msg }

// Source looks a setting up by its full name, e.g. NURTURE_LISTEN.
type Source func(name string) string

// FromEnv reads the environment, with the file named by NURTURE_CONFIG (if
// any) underneath it.
func FromEnv() (Source, error) {
	file := map[string]string{}
	if path := os.Getenv("NURTURE_CONFIG"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, &Error{"NURTURE_CONFIG", err.Error()}
		}
		raw := map[string]any{}
		if err := yaml.Unmarshal(b, &raw); err != nil {
			return nil, &Error{"NURTURE_CONFIG", path + ": " + err.Error()}
		}
		known := map[string]bool{}
		for _, s := range Settings {
			known[s.Name] = true
		}
		for k, v := range raw {
			name := "NURTURE_" + strings.ToUpper(strings.TrimPrefix(strings.ToLower(k), "nurture_"))
			if !known[name] {
				return nil, &Error{"NURTURE_CONFIG", fmt.Sprintf("%s: unknown setting %q", path, k)}
			}
			file[name] = fmt.Sprint(v)
		}
	}
	return func(name string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return file[name]
	}, nil
}

// Load validates every setting. need lists settings that must be present for
// the command at hand (serve needs all; migrate only the database).
func Load(get Source, need ...string) (*Config, error) {
	p := parser{get: get, need: map[string]bool{}}
	for _, n := range need {
		p.need[n] = true
	}
	c := &Config{
		DatabaseURL:       p.database("NURTURE_DATABASE_URL"),
		SMTPURL:           p.str("NURTURE_SMTP_URL"),
		SMTP:              p.smtp("NURTURE_SMTP_URL"),
		Listen:            p.addr("NURTURE_LISTEN"),
		BaseURL:           p.baseURL("NURTURE_BASE_URL"),
		Secret:            p.secret("NURTURE_SECRET"),
		From:              p.from("NURTURE_FROM"),
		PostalAddress:     p.line("NURTURE_POSTAL_ADDRESS"),
		PrivacyURL:        p.link("NURTURE_PRIVACY_URL"),
		AdminToken:        p.str("NURTURE_ADMIN_TOKEN"),
		Campaigns:         p.folder("NURTURE_CAMPAIGNS"),
		Templates:         p.str("NURTURE_TEMPLATES"),
		Tick:              p.duration("NURTURE_TICK"),
		TrustedProxies:    p.cidrs("NURTURE_TRUSTED_PROXIES"),
		RedirectHosts:     p.hosts("NURTURE_REDIRECT_HOSTS"),
		ConfirmTTL:        p.duration("NURTURE_CONFIRM_TTL"),
		ConfirmInterval:   p.duration("NURTURE_CONFIRM_INTERVAL"),
		PendingRetention:  p.duration("NURTURE_PENDING_RETENTION"),
		RateIP:            p.int("NURTURE_RATE_IP"),
		RateEmail:         p.int("NURTURE_RATE_EMAIL"),
		SMTPConns:         p.int("NURTURE_SMTP_CONNS"),
		SMTPRate:          p.float("NURTURE_SMTP_RATE"),
		SMTPReplyTimeout:  p.duration("NURTURE_SMTP_REPLY_TIMEOUT"),
		UnsubscribeMailto: p.str("NURTURE_UNSUBSCRIBE_MAILTO"),
		DefaultTimezone:   p.location("NURTURE_DEFAULT_TIMEZONE"),
		DKIMDomain:        p.str("NURTURE_DKIM_DOMAIN"),
		DKIMSelector:      p.str("NURTURE_DKIM_SELECTOR"),
		DKIMKeyFile:       p.str("NURTURE_DKIM_KEY_FILE"),
	}
	if p.err != nil {
		return nil, p.err
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return nil, &Error{"NURTURE_ADMIN_TOKEN", "must be at least 16 characters"}
	}
	if c.SMTPConns < 1 {
		return nil, &Error{"NURTURE_SMTP_CONNS", "must be at least 1"}
	}
	if c.SMTPReplyTimeout != 0 && c.SMTPReplyTimeout < time.Second {
		return nil, &Error{"NURTURE_SMTP_REPLY_TIMEOUT", "must be at least 1s"}
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

type parser struct {
	get  Source
	need map[string]bool
	err  error
}

func defaultOf(name string) string {
	for _, s := range Settings {
		if s.Name == name {
			return s.Default
		}
	}
	return ""
}

// raw returns the value or its default; "" with ok=false when absent.
func (p *parser) raw(name string) (string, bool) {
	v := strings.TrimSpace(cmp.Or(p.get(name), defaultOf(name)))
	if v == "" && p.need[name] && p.err == nil {
		p.err = &Error{name, "is required"}
	}
	return v, v != ""
}

func (p *parser) fail(name, format string, args ...any) {
	if p.err == nil {
		p.err = &Error{name, fmt.Sprintf(format, args...)}
	}
}

func (p *parser) str(name string) string { v, _ := p.raw(name); return v }

func (p *parser) database(name string) string {
	v, ok := p.raw(name)
	if ok {
		if err := dsn.Check(v); err != nil {
			p.fail(name, "%v", err)
		}
	}
	return v
}

// smtp parses the SMTP URL with the mailer's own rules, so that a bad one
// stops the start here rather than after the database is migrated.
func (p *parser) smtp(name string) mailer.Config {
	v, ok := p.raw(name)
	if !ok {
		return mailer.Config{}
	}
	c, err := mailer.ParseURL(v) // its errors never repeat the password
	if err != nil {
		p.fail(name, "%s", strings.TrimPrefix(err.Error(), "mailer: "+name+": "))
	}
	return c
}

// folder is a folder that must exist when it is set; its default may be
// missing (the caller decides what that means).
func (p *parser) folder(name string) string {
	v, _ := p.raw(name)
	if strings.TrimSpace(p.get(name)) == "" {
		return v
	}
	switch fi, err := os.Stat(v); {
	case errors.Is(err, fs.ErrNotExist):
		p.fail(name, "folder %q does not exist", v)
	case err != nil:
		p.fail(name, "%v", err)
	case !fi.IsDir():
		p.fail(name, "%q is not a folder", v)
	}
	return v
}

func (p *parser) addr(name string) string {
	v, ok := p.raw(name)
	if ok {
		if _, _, err := net.SplitHostPort(v); err != nil {
			p.fail(name, "%q is not host:port", v)
		}
	}
	return v
}

func (p *parser) baseURL(name string) *url.URL {
	v, ok := p.raw(name)
	if !ok {
		return nil
	}
	u, err := url.Parse(strings.TrimSuffix(v, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail(name, "%q is not an absolute http(s) URL", v)
		return nil
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(v, "#") {
		// Links are made by appending paths to it.
		p.fail(name, "%q must not have a query or fragment", v)
		return nil
	}
	return u
}

// link is an absolute http(s) address for people to follow.
func (p *parser) link(name string) string {
	v, ok := p.raw(name)
	if !ok {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsFunc(v, unicode.IsControl) {
		p.fail(name, "%q is not an absolute http(s) URL, such as https://www.acme.example/privacy", v)
		return ""
	}
	return u.String()
}

func (p *parser) secret(name string) []byte {
	v, ok := p.raw(name)
	if ok && len(v) < 32 {
		p.fail(name, "must be at least 32 bytes, got %d", len(v))
	}
	return []byte(v)
}

func (p *parser) from(name string) string {
	v, ok := p.raw(name)
	if ok && (strings.ContainsAny(v, "\r\n") || !strings.Contains(bareAddress(v), "@")) {
		p.fail(name, "%q is not an address like `Acme <news@acme.example>`", v)
	}
	return v
}

// line is text for one line of a mail, such as the postal address.
func (p *parser) line(name string) string {
	v, _ := p.raw(name)
	if strings.ContainsFunc(v, unicode.IsControl) {
		p.fail(name, "write it on one line, such as `Acme GmbH · Hafenstraße 1 · 20457 Hamburg · Germany`")
	}
	return v
}

func (p *parser) duration(name string) time.Duration {
	v, ok := p.raw(name)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.fail(name, "%q is not a positive duration such as 5s or 72h", v)
	}
	return d
}

func (p *parser) int(name string) int {
	v, ok := p.raw(name)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		p.fail(name, "%q is not a whole number ≥ 0", v)
	}
	return n
}

func (p *parser) float(name string) float64 {
	v, ok := p.raw(name)
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		p.fail(name, "%q is not a number ≥ 0", v)
	}
	return f
}

func (p *parser) cidrs(name string) []netip.Prefix {
	v, ok := p.raw(name)
	if !ok {
		return nil
	}
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			if a, err := netip.ParseAddr(s); err == nil {
				out = append(out, netip.PrefixFrom(a, a.BitLen()))
				continue
			}
		}
		pr, err := netip.ParsePrefix(s)
		if err != nil {
			p.fail(name, "%q is not a CIDR such as 10.0.0.0/8", s)
			continue
		}
		out = append(out, pr.Masked())
	}
	return out
}

func (p *parser) hosts(name string) []string {
	v, ok := p.raw(name)
	if !ok {
		return nil
	}
	var out []string
	for _, h := range strings.Split(v, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		u, err := url.Parse("https://" + h)
		if err != nil || u.Host != h || u.Hostname() == "" || strings.ContainsAny(h, "@/?#") || strings.HasSuffix(h, ":") {
			p.fail(name, "%q is not a host such as www.acme.example", h)
			continue
		}
		out = append(out, h)
	}
	return out
}

func (p *parser) location(name string) *time.Location {
	v, ok := p.raw(name)
	if !ok {
		return time.UTC
	}
	loc, err := time.LoadLocation(v)
	if err != nil {
		p.fail(name, "%q is not an IANA time zone such as Europe/Berlin", v)
		return time.UTC
	}
	return loc
}

// bareAddress returns the addr-spec of "Name <addr>" or addr itself.
func bareAddress(s string) string {
	if i, j := strings.LastIndexByte(s, '<'), strings.LastIndexByte(s, '>'); i >= 0 && j > i {
		return s[i+1 : j]
	}
	return strings.TrimSpace(s)
}
