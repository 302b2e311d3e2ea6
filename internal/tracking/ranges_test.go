package tracking

import (
	"bytes"
	"image/gif"
	"net/netip"
	"strings"
	"testing"
)

func TestRanges_LookupNestedAndEdges(t *testing.T) {
	r := NewRanges([]Entry{
		{netip.MustParsePrefix("10.0.0.0/8"), "outer"},
		{netip.MustParsePrefix("10.1.0.0/16"), "inner"},
		{netip.MustParsePrefix("192.0.2.0/24"), "doc"},
		{netip.MustParsePrefix("192.0.2.77/24"), "host bits"}, // masked: same network
		{netip.MustParsePrefix("203.0.113.5/32"), "one"},
		{netip.MustParsePrefix("2001:db8::/32"), "v6"},
	})
	tests := []struct {
		ip, want string
	}{
		{"10.0.0.0", "outer"}, {"10.255.255.255", "outer"}, {"10.1.2.3", "outer"}, {"10.2.0.0", "outer"},
		{"9.255.255.255", ""}, {"11.0.0.0", ""},
		{"192.0.2.0", "doc"}, {"192.0.2.255", "doc"}, {"192.0.3.0", ""},
		{"203.0.113.5", "one"}, {"203.0.113.4", ""}, {"203.0.113.6", ""},
		{"::ffff:192.0.2.9", "doc"},
		{"2001:db8:ffff::1", "v6"}, {"2001:db9::", ""}, {"::", ""},
		{"0.0.0.0", ""}, {"255.255.255.255", ""},
	}
	for _, tt := range tests {
		e, ok := r.Lookup(netip.MustParseAddr(tt.ip))
		if got := e.Label; got != tt.want || ok != (tt.want != "") {
			t.Errorf("Lookup(%s) = %q, %v; want %q", tt.ip, got, ok, tt.want)
		}
	}
	if r.Len() != 4 {
		t.Errorf("Len = %d, want 4 after merging", r.Len())
	}
	var empty *Ranges
	if _, ok := empty.Lookup(netip.MustParseAddr("10.0.0.1")); ok {
		t.Error("a nil Ranges found something")
	}
	if _, ok := r.Lookup(netip.Addr{}); ok {
		t.Error("the zero address was found")
	}
}

func TestParseAppleEgress(t *testing.T) {
	csv := "\ufeff172.224.226.0/27,GB,GB-EN,London,\n\n172.224.226.32/27,GB,,,\n2a02:26f7:b3c0:4000::/64,DE,DE-BE,Berlin,\r\n104.28.0.1,US,US-CA,Los Angeles,\n"
	r, err := ParseAppleEgress(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]string{
		"172.224.226.1": "GB GB-EN London", "172.224.226.40": "GB", "2a02:26f7:b3c0:4000::1": "DE DE-BE Berlin",
		"104.28.0.1": "US US-CA Los Angeles",
	} {
		if e, ok := r.Lookup(netip.MustParseAddr(ip)); !ok || e.Label != want {
			t.Errorf("Lookup(%s) = %+v, %v; want %q", ip, e, ok, want)
		}
	}
	if _, ok := r.Lookup(netip.MustParseAddr("104.28.0.2")); ok {
		t.Error("a single address matched its neighbour")
	}
}

func TestParseAppleEgress_BadLinesNamed(t *testing.T) {
	tests := map[string]string{
		"172.224.226.0/27,GB,GB-EN,London,\nnot-an-ip,GB,GB-EN,London,\n": "line 2: \"not-an-ip\" is not an IP network",
		"172.224.226.0/27\n":                         "line 1: want prefix,country,region,city,",
		"172.224.226.0/27,GB,GB-EN,London,extra\n":   "line 1: want prefix,country,region,city,",
		"\n\n172.224.226.0/33,GB,GB-EN,London,\n":    "line 3:",
		"172.224.226.0/27,GB,GB-EN,London,,,,,,,,\n": "line 1:",
	}
	for in, want := range tests {
		_, err := ParseAppleEgress(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to contain %q", in, err, want)
		}
	}
}

func TestDefaultScanners_ShippedFileParses(t *testing.T) {
	r, err := ParseScanners(strings.NewReader(scannersFile))
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() < 20 || DefaultScanners().Len() != r.Len() {
		t.Fatalf("only %d networks", r.Len())
	}
	for _, name := range []string{"Microsoft", "Proofpoint", "Mimecast", "Barracuda", "Cisco"} {
		if !strings.Contains(scannersFile, "\n# "+strings.Fields(name)[0]) {
			t.Errorf("scanners.txt has no comment section for %s", name)
		}
	}
}

func TestParseScanners_BadLines(t *testing.T) {
	for in, want := range map[string]string{
		"# c\n10.0.0.0/8\n":        "line 2: want a network",
		"10.0.0.0/8 A\n10.0.0 B\n": `line 2: "10.0.0" is not an IP network`,
	} {
		if _, err := ParseScanners(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}

func TestPixel_Is43ByteTransparentGIF(t *testing.T) {
	if len(Pixel) != 43 {
		t.Fatalf("pixel has %d bytes", len(Pixel))
	}
	img, err := gif.Decode(bytes.NewReader([]byte(Pixel)))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1 || b.Dy() != 1 {
		t.Fatalf("pixel is %v", b)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("pixel is not transparent: alpha %d", a)
	}
}

func TestAnonymise(t *testing.T) {
	tests := map[string]string{
		"203.0.113.77":               "203.0.113.0/24",
		"::ffff:203.0.113.77":        "203.0.113.0/24",
		"2001:db8:1234:5678::1":      "2001:db8:1234::/48",
		"fe80::1%eth0":               "fe80::/48",
		"2001:db8:abcd:ffff:ffff::1": "2001:db8:abcd::/48",
	}
	for in, want := range tests {
		if got := Anonymise(netip.MustParseAddr(in)); got.String() != want {
			t.Errorf("Anonymise(%s) = %s, want %s", in, got, want)
		}
	}
	if got := Anonymise(netip.Addr{}); got.IsValid() {
		t.Errorf("Anonymise(invalid) = %s", got)
	}
}

func BenchmarkRanges_Lookup(b *testing.B) {
	var entries []Entry
	for i := range 100_000 {
		a := netip.AddrFrom4([4]byte{byte(i >> 16), byte(i >> 8), byte(i), 0})
		entries = append(entries, Entry{netip.PrefixFrom(a, 27), "x"})
	}
	r := NewRanges(entries)
	ip := netip.MustParseAddr("1.2.3.4")
	for b.Loop() {
		r.Lookup(ip)
	}
}
