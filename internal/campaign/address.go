package campaign

import (
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

var mailAddressRE = regexp.MustCompile(`^[^\s@/:]+@[^\s@/:]+\.[^\s@/:]+$`)

// fullAddress is the address a link that is not one was most likely meant
// to be: example.com/pricing and //example.com/pricing are
// https://example.com/pricing, and a path such as /pricing gets an example
// domain.
func fullAddress(dest string) string {
	rest := dest
	for _, p := range []string{"https:", "http:"} {
		if len(rest) >= len(p) && strings.EqualFold(rest[:len(p)], p) {
			rest = rest[len(p):]
		}
	}
	rest = strings.TrimLeft(rest, "/")
	host := rest
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if looksLikeHost(host) {
		return "https://" + rest
	}
	return "https://example.com/" + rest
}

var hostLabelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// looksLikeHost reports whether s, with an optional port, is a domain
// under a public suffix, such as example.com or www.acme.de, rather than
// a file name such as pricing.html.
func looksLikeHost(s string) bool {
	s = strings.ToLower(s)
	if h, port, ok := strings.Cut(s, ":"); ok {
		if _, err := strconv.Atoi(port); err != nil {
			return false
		}
		s = h
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !hostLabelRE.MatchString(l) {
			return false
		}
	}
	suffix, icann := publicsuffix.PublicSuffix(s)
	return icann && suffix != s
}
