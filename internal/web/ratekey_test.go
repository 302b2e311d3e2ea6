package web

import (
	"net/netip"
	"testing"
)

func TestRateKey_IPv6ClientsCountPerSlash64(t *testing.T) {
	t.Parallel()
	tests := []struct{ ip, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	}
	for _, tt := range tests {
		if got := rateKey(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("rateKey(%s) = %s, want %s", tt.ip, got, tt.want)
		}
	}
}
