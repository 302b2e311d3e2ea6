package config

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

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
	{"NURTURE_TRACKING", "consent", "open and click tracking: `consent` tracks only leads whose confirmed signup agreed to it (§ 25 TDDDG, GDPR), `all` tracks every lead, `off` none"},
	{"NURTURE_SCAN_WINDOW", "30s", "a click sooner than this after its mail was delivered is taken for a link scanner, unless other evidence says a person clicked"},
	{"NURTURE_BURST_WINDOW", "1.5s", "clicks on several links of one mail, each within this of the next, are taken for a link scanner; opens and clicks wait this long before they score, since a later click of the burst can still re-mark them"},
	{"NURTURE_APPLE_EGRESS_FILE", "", "Apple's published iCloud Private Relay egress ranges (CSV), which confirm Apple Mail Privacy Protection opens; optional"},
	{"NURTURE_SITE_HOSTS", "", "comma-separated hosts of your own site: a tracked click to one carries a signed lead reference (`?nt=…`) that `/t.js` reports page views with, and CORS allows these hosts only"},
	{"NURTURE_SALES_TOKEN", "", "bearer token for the sales API (handoffs, accept, reject, qualify); the admin token works there too"},
	{"NURTURE_WEBHOOK_ALLOW_PRIVATE", "false", "let the handoff webhook reach private and loopback addresses (refused by default, against SSRF)"},
	{"NURTURE_CONFIG", "", "optional YAML file with any of these settings, e.g. `smtp_url: smtp://…`; the environment wins"},
}

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
