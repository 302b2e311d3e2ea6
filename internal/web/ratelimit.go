package web

import (
	"net/http"
	"net/netip"

	"github.com/nurture/nurture/internal/ratelimit"
)

// allowIP applies the per-IP limit that signups and resends share.
func (s *Server) allowIP(r *http.Request) error {
	key, now := rateKey(s.clientIP(r)), s.cfg.Now()
	if !s.perIP.Allow(key, now) {
		return &ratelimit.Limited{Err: errRateLimited, After: s.perIP.Retry(key, now)}
	}
	return nil
}

// rateKey is whom the per-IP limit counts: an IPv4 address, or an IPv6
// client's /64, since one subscriber line gets a whole /64 and can pick a
// fresh address from it for every request.
func rateKey(ip netip.Addr) string {
	if ip.Is4() || ip.Is4In6() {
		return ip.Unmap().String()
	}
	return netip.PrefixFrom(ip, 64).Masked().String()
}
