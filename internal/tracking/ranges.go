package tracking

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// Ranges is a set of IP networks, each with a label (the operator of a
// scanner network, or the place of an Apple egress range), looked up in
// O(log n). Nested networks are merged into the outer one, whose label wins.
// The zero Ranges is empty and ready to use.
type Ranges struct {
	v4, v6 []span
}

type span struct {
	first, last netip.Addr
	prefix      netip.Prefix
	label       string
}

// Entry is one network and its label.
type Entry struct {
	Prefix netip.Prefix
	Label  string
}

// NewRanges builds a set from entries.
func NewRanges(entries []Entry) *Ranges {
	r := &Ranges{}
	for _, e := range entries {
		p := e.Prefix.Masked()
		if !p.IsValid() {
			continue
		}
		s := span{first: p.Addr(), last: lastAddr(p), prefix: p, label: e.Label}
		if p.Addr().Is4() {
			r.v4 = append(r.v4, s)
		} else {
			r.v6 = append(r.v6, s)
		}
	}
	r.v4, r.v6 = merge(r.v4), merge(r.v6)
	return r
}

// merge sorts spans and folds each one that lies inside the one before into
// it, so that no two spans overlap and a binary search finds the only
// candidate. CIDR networks are nested or apart, never partly overlapping.
func merge(ss []span) []span {
	slices.SortFunc(ss, func(a, b span) int {
		return cmp.Or(a.first.Compare(b.first), b.last.Compare(a.last))
	})
	out := ss[:0]
	for _, s := range ss {
		if n := len(out); n > 0 && s.first.Compare(out[n-1].last) <= 0 {
			continue
		}
		out = append(out, s)
	}
	return slices.Clip(out)
}

// Lookup returns the network that holds ip and its label.
func (r *Ranges) Lookup(ip netip.Addr) (Entry, bool) {
	if r == nil || !ip.IsValid() {
		return Entry{}, false
	}
	ip = ip.Unmap().WithZone("")
	ss := r.v6
	if ip.Is4() {
		ss = r.v4
	}
	// The first span that starts after ip; the one before it is the only
	// one that can hold ip.
	i, _ := slices.BinarySearchFunc(ss, ip, func(s span, ip netip.Addr) int {
		if s.first.Compare(ip) <= 0 {
			return -1
		}
		return 1
	})
	if i == 0 || ss[i-1].last.Compare(ip) < 0 {
		return Entry{}, false
	}
	return Entry{Prefix: ss[i-1].prefix, Label: ss[i-1].label}, true
}

// Len is the number of networks after merging.
func (r *Ranges) Len() int {
	if r == nil {
		return 0
	}
	return len(r.v4) + len(r.v6)
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		a[i/8] |= 1 << (7 - i%8)
	}
	last := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		return last.Unmap()
	}
	return last
}

// parsePrefix reads a network, or a single address as a network of one.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParseAppleEgress reads Apple's published egress ranges (the file at
// https://mask-api.icloud.com/egress-ip-ranges.csv), whose lines are
// "prefix,country,region,city," such as "172.224.226.0/27,GB,GB-EN,London,".
// Empty lines are skipped; the label is "country region city" as far as
// given. A line that is not of that form is an error naming its line.
func ParseAppleEgress(r io.Reader) (*Ranges, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	var entries []Entry
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		if len(fields) < 4 || len(fields) > 5 || (len(fields) == 5 && strings.TrimSpace(fields[4]) != "") {
			return nil, fmt.Errorf("tracking: apple egress ranges: line %d: want prefix,country,region,city, but got %q", line, text)
		}
		p, err := parsePrefix(strings.TrimSpace(fields[0]))
		if err != nil {
			return nil, fmt.Errorf("tracking: apple egress ranges: line %d: %q is not an IP network: %v", line, fields[0], err)
		}
		var place []string
		for _, f := range fields[1:4] {
			if f = strings.TrimSpace(f); f != "" {
				place = append(place, f)
			}
		}
		entries = append(entries, Entry{Prefix: p, Label: strings.Join(place, " ")})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tracking: apple egress ranges: line %d: %w", line+1, err)
	}
	return NewRanges(entries), nil
}
