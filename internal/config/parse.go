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
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/nurture/nurture/internal/dsn"
	"github.com/nurture/nurture/internal/mailer"
)

// parser reads one setting per method and keeps the first problem, so
// that Load can name every field in one literal and report one line.
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
	return nonNegative(p, name, "a whole number", strconv.Atoi)
}

func (p *parser) float(name string) float64 {
	return nonNegative(p, name, "a number", func(v string) (float64, error) { return strconv.ParseFloat(v, 64) })
}

// nonNegative reads a number of at least 0 with parse; what names the kind
// of number in the message.
func nonNegative[N int | float64](p *parser, name, what string, parse func(string) (N, error)) N {
	v, ok := p.raw(name)
	if !ok {
		return 0
	}
	n, err := parse(v)
	if err != nil || n < 0 {
		p.fail(name, "%q is not %s ≥ 0", v, what)
	}
	return n
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

// oneOf is a setting that takes one of a few words.
func (p *parser) oneOf(name string, words ...string) string {
	v, _ := p.raw(name)
	if !slices.Contains(words, v) {
		p.fail(name, "must be one of %s, not %q", strings.Join(words, ", "), v)
	}
	return v
}

// bool is true, false, 1 or 0, as strconv.ParseBool reads them.
func (p *parser) bool(name string) bool {
	v, _ := p.raw(name)
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, "must be true or false, not %q", v)
	}
	return b
}
