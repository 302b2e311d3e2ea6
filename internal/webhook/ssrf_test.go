package webhook

import (
	"errors"
	"net/netip"
	"testing"
)

func TestRefused(t *testing.T) {
	for ip, want := range map[string]bool{
		"127.0.0.1":        true,
		"127.8.9.10":       true,
		"::1":              true,
		"10.1.2.3":         true,
		"172.16.0.1":       true,
		"192.168.1.1":      true,
		"fd00::1":          true,
		"169.254.169.254":  true, // cloud metadata
		"fe80::1":          true,
		"0.0.0.0":          true,
		"::":               true,
		"224.0.0.1":        true,
		"ff02::1":          true,
		"100.64.0.1":       true,
		"::ffff:127.0.0.1": true,
		"::ffff:10.0.0.1":  true,
		"64:ff9b::a00:1":   true,
		"255.255.255.255":  true,
		"93.184.215.14":    false,
		"2606:4700::1111":  false,
		"8.8.8.8":          false,
	} {
		if got := refused(netip.MustParseAddr(ip)); got != want {
			t.Errorf("refused(%s) = %v, want %v", ip, got, want)
		}
	}
}

// The guard judges the address being dialled, whatever name led to it.
func TestGuard_JudgesTheDialledAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:443":     true,
		"[::1]:80":          true,
		"10.0.0.7:8443":     true,
		"93.184.215.14:443": false,
		"localhost:443":     true, // not an address: never dialled as such
	} {
		err := guard("tcp", addr, nil)
		if got := errors.Is(err, errPrivate); got != want {
			t.Errorf("guard(%s) = %v, want refused %v", addr, err, want)
		}
	}
}
