package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errPrivate means the receiver's address is one that a webhook may not
// reach (see refused).
var errPrivate = errors.New("refused: the address is private, loopback, link-local, unspecified or multicast (NURTURE_WEBHOOK_ALLOW_PRIVATE allows it)")

// special are ranges refused besides those netip names: this network,
// shared address space (CGNAT), IETF protocol assignments, benchmarking,
// reserved and broadcast, and NAT64 and 6to4, which embed IPv4 addresses.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
}

// refused reports whether a webhook may not connect to ip.
func refused(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() ||
		ip.IsMulticast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() {
		return true
	}
	for _, p := range special {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// guard is a net.Dialer Control that refuses the address being dialled:
// the one the name resolved to, so a name that resolves to a private
// address, or resolves anew between a check and the dial, is caught.
func guard(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errPrivate, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || refused(ip) {
		return fmt.Errorf("%w: %s", errPrivate, host)
	}
	return nil
}

// newClient is the HTTP client deliveries post with: no proxy (one would
// dial for us, past the guard), no redirects (only the receiver's own
// answer counts), and the guard unless private addresses are allowed.
func newClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = guard
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
