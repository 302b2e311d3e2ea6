package render

import (
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	"golang.org/x/net/publicsuffix"
)

// nodeOffset finds where an inline node starts in the source: by its
// position when the parser noted one, or else by the text around it.
func nodeOffset(n ast.Node) int {
	if p := n.Pos(); p >= 0 {
		return p
	}
	at := -1
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering {
			at = t.Segment.Start
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	if at >= 0 {
		return at
	}
	if t, ok := n.PreviousSibling().(*ast.Text); ok {
		if t.SoftLineBreak() || t.HardLineBreak() {
			return t.Segment.Stop + 1
		}
		return t.Segment.Stop
	}
	for p := n.Parent(); p != nil; p = p.Parent() {
		if p.Type() == ast.TypeBlock && p.Lines().Len() > 0 {
			return p.Lines().At(0).Start
		}
	}
	return 0
}

// checkLink reports a link destination that is not an absolute web address.
// Destinations that start with a placeholder, such as {{ .UnsubscribeURL }},
// are checked when the mail is rendered.
func checkLink(path string, line int, dest string, image bool, b *Body, r Reporter) bool {
	kind := "link"
	if image {
		kind = "image"
	}
	if strings.HasPrefix(dest, placeholderPrefix) {
		return true
	}
	static, _, templated := strings.Cut(dest, placeholderPrefix)
	u, err := url.Parse(static)
	if err != nil && !templated {
		r.Errorf(path, line, "%s %q is not a valid address: %v", kind, dest, err)
		return false
	}
	scheme := ""
	if u != nil {
		scheme = strings.ToLower(u.Scheme)
	}
	shown := placeholderRE.ReplaceAllString(dest, "{{…}}")
	switch {
	case (scheme == "http" || scheme == "https") && u.Host != "":
		if !templated {
			b.links = append(b.links, dest)
		}
		return true
	case !image && (scheme == "mailto" || scheme == "tel"):
		return true
	case !image && scheme == "" && mailAddressRE.MatchString(static):
		r.Errorf(path, line, "%s %q is not a full address: for a mail link write mailto:%s", kind, shown, static)
	case scheme == "" || scheme == "http" || scheme == "https" || strings.Contains(scheme, "."):
		r.Errorf(path, line, "%s %q is not a full address: write it with https:// and the domain, such as %s", kind, shown, fullAddress(static))
	default:
		r.Errorf(path, line, "%s %q is not allowed: a %s must start with https:// or http://", kind, shown, kind)
	}
	return false
}

// finishLinks replaces each href="nurturelinkN:ADDRESS" with the address,
// checked and passed through rewrite, and returns the addresses by link
// number in the order they appeared. Values from a lead cannot fake the
// marker: html/template escapes their quotes.
func finishLinks(s string, rewrite func(string) string) (string, [][]string) {
	const open = `href="` + linkMarker
	var links [][]string
	var out strings.Builder
	out.Grow(len(s) + len(s)/8)
	for {
		i := strings.Index(s, open)
		if i < 0 {
			break
		}
		out.WriteString(s[:i])
		rest := s[i+len(open):]
		colon := strings.IndexByte(rest, ':')
		quote := strings.IndexByte(rest, '"')
		n, err := strconv.Atoi(rest[:max(colon, 0)])
		if colon < 0 || quote < colon || err != nil {
			// Not ours after all; keep it as it was.
			out.WriteString(open)
			s = rest
			continue
		}
		u := safeURL(html.UnescapeString(rest[colon+1 : quote]))
		if rewrite != nil && (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
			u = rewrite(u)
		}
		for len(links) <= n {
			links = append(links, nil)
		}
		links[n] = append(links[n], u)
		out.WriteString(`href="`)
		out.WriteString(html.EscapeString(u))
		out.WriteByte('"')
		s = rest[quote+1:]
	}
	out.WriteString(s)
	return out.String(), links
}

// safeURL lets web, mail and phone links through and turns anything else,
// such as a javascript: address from a lead's attribute, into "#".
func safeURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "#"
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host != "" {
			return u.String()
		}
	case "mailto", "tel":
		return u.String()
	}
	return "#"
}

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
