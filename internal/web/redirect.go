package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// redirectTo returns the thank-you page a signup form named, or "" for the
// hosted "check your inbox" page. A form embedded on another site may send
// the person back to that site (site is the host of the posting page, from
// Origin or Referer); any form may send them to the base URL's host or to a
// host in NURTURE_REDIRECT_HOSTS. Anything else would make this server an
// open redirect, so it is ignored.
func (s *Server) redirectTo(raw, site string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(raw, "\r\n") {
		return ""
	}
	host := hostOf(u)
	if host == "" {
		return ""
	}
	if host == site || host == hostOf(s.cfg.BaseURL) || slices.Contains(s.cfg.RedirectHosts, host) {
		return u.String()
	}
	return ""
}

// vouched reports whether sig is this server's MAC of redirect, handed out
// in a form shown again after an error (see refill).
func (s *Server) vouched(redirect, sig string) bool {
	return redirect != "" && sig != "" && s.cfg.Signer != nil && s.cfg.Signer.VerifyText(redirectPurpose, redirect, sig)
}

// postingSite is the host of the page whose form was posted: the Origin
// header's, or the Referer's when a browser sent no Origin. "" when neither
// names one (Origin: null, say).
func postingSite(r *http.Request) string {
	src, ok := r.Header["Origin"]
	if !ok {
		src = r.Header["Referer"]
	}
	if len(src) != 1 {
		return ""
	}
	u, err := url.Parse(src[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return hostOf(u)
}

// hostOf is u's host in lower case, without the scheme's default port.
func hostOf(u *url.URL) string {
	host := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "https":
		host = strings.TrimSuffix(host, ":443")
	case u.Scheme == "http":
		host = strings.TrimSuffix(host, ":80")
	}
	return host
}
