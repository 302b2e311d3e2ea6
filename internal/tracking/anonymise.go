package tracking

import "net/netip"

// Anonymise returns the network a client's address belongs to, which is all
// that is stored of it: the /24 of an IPv4 address and the /48 of an IPv6
// one. An IPv4 address written as IPv6 (::ffff:a.b.c.d) counts as IPv4. The
// zero Prefix comes back for an invalid address.
func Anonymise(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.WithZone("").Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}
