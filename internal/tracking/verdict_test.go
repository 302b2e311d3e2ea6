package tracking

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	gmail  = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
	yahoo  = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
)

var (
	delivered = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	later     = delivered.Add(time.Hour)
	home      = netip.MustParseAddr("198.51.100.7")
)

func testJudge(t *testing.T) Judge {
	apple, err := ParseAppleEgress(strings.NewReader("172.224.226.0/27,GB,GB-EN,London,\n2a02:26f7:b3c0:4000::/64,DE,DE-BE,Berlin,\n"))
	if err != nil {
		t.Fatal(err)
	}
	return Judge{Scanners: DefaultScanners(), Apple: apple}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestDecide_EveryRule(t *testing.T) {
	j := testJudge(t)
	clickAt := func(d time.Duration, link int, recent ...Click) Hit {
		return Hit{Kind: KindClick, Link: link, Method: "GET", Header: hdr("User-Agent", chrome), IP: home,
			At: later.Add(d), Delivered: delivered, Recent: recent}
	}
	tests := []struct {
		name   string
		hit    Hit
		want   Verdict
		reason string
		remark []int64
	}{
		{"a person's open", Hit{Kind: KindOpen, Method: "GET", Header: hdr("User-Agent", chrome), IP: home, At: later}, Human, "mail client", nil},
		{"a person's click", clickAt(0, 1), Human, "browser", nil},
		{"HEAD", Hit{Kind: KindClick, Link: 1, Method: "HEAD", Header: hdr("User-Agent", chrome), IP: home, At: later}, Prefetch, "HEAD", nil},
		{"Sec-Purpose prefetch", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", chrome, "Sec-Purpose", "prefetch;prerender"), IP: home, At: later}, Prefetch, "Sec-Purpose: prefetch;prerender", nil},
		{"Purpose prefetch", Hit{Kind: KindOpen, Method: "GET", Header: hdr("User-Agent", chrome, "Purpose", "prefetch"), IP: home, At: later}, Prefetch, "Purpose: prefetch", nil},
		{"X-Purpose preview", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", chrome, "X-Purpose", "preview"), IP: home, At: later}, Prefetch, "X-Purpose", nil},
		{"Apple MPP confirmed by range", Hit{Kind: KindOpen, Method: "GET", Header: hdr("User-Agent", "Mozilla/5.0"), IP: netip.MustParseAddr("172.224.226.9"), At: later}, AppleMPP, "from Apple's egress range 172.224.226.0/27", nil},
		{"Apple MPP over IPv6", Hit{Kind: KindOpen, Method: "GET", Header: hdr("User-Agent", "Mozilla/5.0"), IP: netip.MustParseAddr("2a02:26f7:b3c0:4000::5"), At: later}, AppleMPP, "2a02:26f7:b3c0:4000::/64", nil},
		{"Apple MPP outside the ranges", Hit{Kind: KindOpen, Method: "GET", Header: hdr("User-Agent", "Mozilla/5.0"), IP: home, At: later}, AppleMPP, "not from one of Apple's egress ranges", nil},
		{"UA almost bare is no MPP", Hit{Kind: KindOpen, Method: "GET", Header: hdr("User-Agent", "Mozilla/5.0 (iPhone)"), IP: home, At: later}, Human, "mail client", nil},
		{"bare UA on a click", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", "Mozilla/5.0"), IP: home, At: later}, Scanner, "bare user agent", nil},
		{"Gmail proxy", Hit{Kind: KindOpen, Method: "GET", Header: hdr("User-Agent", gmail), IP: netip.MustParseAddr("66.102.8.1"), At: delivered.Add(time.Second)}, ImageProxy, "GoogleImageProxy", nil},
		{"Yahoo proxy", Hit{Kind: KindOpen, Method: "GET", Header: hdr("User-Agent", yahoo), IP: home, At: later}, ImageProxy, "YahooMailProxy", nil},
		{"proxy following a link", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", gmail), IP: home, At: later}, Scanner, "only loads images", nil},
		{"Microsoft range", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", chrome), IP: netip.MustParseAddr("40.93.10.20"), At: later}, Scanner, "Microsoft Defender/EOP's network 40.92.0.0/15", nil},
		{"Microsoft IPv6", Hit{Kind: KindOpen, Method: "GET", Header: hdr("User-Agent", chrome), IP: netip.MustParseAddr("2a01:111:f403:1::9"), At: later}, Scanner, "Microsoft", nil},
		{"Proofpoint as 4in6", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", chrome), IP: netip.MustParseAddr("::ffff:67.231.150.1"), At: later}, Scanner, "Proofpoint's network 67.231.144.0/20", nil},
		{"Mimecast", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", chrome), IP: netip.MustParseAddr("205.139.110.30"), At: later}, Scanner, "Mimecast", nil},
		{"Barracuda", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", chrome), IP: netip.MustParseAddr("209.222.82.1"), At: later}, Scanner, "Barracuda", nil},
		{"Cisco", Hit{Kind: KindOpen, Method: "GET", Header: hdr("User-Agent", chrome), IP: netip.MustParseAddr("68.232.140.1"), At: later}, Scanner, "Cisco", nil},
		{"no user agent", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr(), IP: home, At: later}, Scanner, "no user agent", nil},
		{"headless browser", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", "Mozilla/5.0 HeadlessChrome/120.0"), IP: home, At: later}, Scanner, "program", nil},
		{"curl", Hit{Kind: KindOpen, Method: "GET", Header: hdr("User-Agent", "curl/8.5.0"), IP: home, At: later}, Scanner, "curl/8.5.0", nil},
		{"honeypot", Hit{Kind: KindHoneypot, Method: "GET", Header: hdr("User-Agent", chrome), IP: home, At: later,
			Recent: []Click{{ID: 1, Link: 1, At: later.Add(-1500 * time.Millisecond), Verdict: Human}, {ID: 2, Link: 2, At: later.Add(-3 * time.Second), Verdict: Human}, {ID: 3, Link: 3, At: later.Add(-time.Minute), Verdict: Human}}},
			Scanner, "honeypot", []int64{2, 1}},
		{"honeypot re-marks only what is not marked yet", Hit{Kind: KindHoneypot, Method: "GET", Header: hdr("User-Agent", chrome), IP: home, At: later,
			Recent: []Click{{ID: 1, Link: 1, At: later.Add(-time.Second), Verdict: Scanner}, {ID: 2, Link: 2, At: later.Add(-time.Second), Verdict: Human}}},
			Scanner, "honeypot", []int64{2}},
		{"burst on two links", clickAt(0, 2, Click{ID: 7, Link: 1, At: later.Add(-800 * time.Millisecond), Verdict: Human}), Scanner, "2 clicks on 2 links", []int64{7}},
		{"burst chain of three", clickAt(0, 3, Click{ID: 8, Link: 1, At: later.Add(-2700 * time.Millisecond), Verdict: Human}, Click{ID: 9, Link: 2, At: later.Add(-1400 * time.Millisecond), Verdict: Human}),
			Scanner, "3 clicks on 3 links", []int64{8, 9}},
		{"after the honeypot's burst", clickAt(0, 1, Click{ID: 5, Honeypot: true, At: later.Add(-time.Second), Verdict: Scanner}), Scanner, "honeypot", nil},
		{"same link twice is no burst", clickAt(0, 1, Click{ID: 7, Link: 1, At: later.Add(-500 * time.Millisecond), Verdict: Human}), Human, "browser", nil},
		{"two links far apart", clickAt(0, 2, Click{ID: 7, Link: 1, At: later.Add(-2100 * time.Millisecond), Verdict: Human}), Human, "browser", nil},
		{"too soon", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", chrome), IP: home, At: delivered.Add(4 * time.Second), Delivered: delivered}, Scanner, "4s after delivery, sooner than the scan window of 30s", nil},
		{"too soon but a person clicked", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", chrome, "Sec-Fetch-User", "?1"), IP: home, At: delivered.Add(4 * time.Second), Delivered: delivered}, Human, "Sec-Fetch-User", nil},
		{"just after the scan window", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", chrome), IP: home, At: delivered.Add(30 * time.Second), Delivered: delivered}, Human, "browser", nil},
		{"an open soon after delivery", Hit{Kind: KindOpen, Method: "GET", Header: hdr("User-Agent", chrome), IP: home, At: delivered.Add(2 * time.Second), Delivered: delivered}, Human, "mail client", nil},
		{"delivery unknown", Hit{Kind: KindClick, Link: 1, Method: "GET", Header: hdr("User-Agent", chrome), IP: home, At: delivered.Add(time.Second)}, Human, "browser", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := j.Decide(tt.hit)
			if got.Verdict != tt.want || !strings.Contains(got.Reason, tt.reason) || !slices.Equal(got.Remark, tt.remark) {
				t.Errorf("got %+v, want %s with a reason containing %q and remark %v", got, tt.want, tt.reason, tt.remark)
			}
		})
	}
}

func TestDecide_ScanWindowConfigurable(t *testing.T) {
	j := Judge{ScanWindow: 5 * time.Second, BurstWindow: 100 * time.Millisecond}
	h := Hit{Kind: KindClick, Link: 2, Method: "GET", Header: hdr("User-Agent", chrome), IP: home, At: delivered.Add(6 * time.Second), Delivered: delivered,
		Recent: []Click{{ID: 1, Link: 1, At: delivered.Add(5800 * time.Millisecond), Verdict: Human}}}
	if got := j.Decide(h); got.Verdict != Human {
		t.Errorf("got %+v, want human", got)
	}
	h.At = delivered.Add(4 * time.Second)
	h.Recent = nil
	if got := j.Decide(h); got.Verdict != Scanner || !strings.Contains(got.Reason, "scan window of 5s") {
		t.Errorf("got %+v, want scanner by the 5s window", got)
	}
}

func TestVerdict_Counts(t *testing.T) {
	for _, v := range Verdicts {
		if want := v == Human || v == ImageProxy; v.Counts() != want {
			t.Errorf("%s.Counts() = %v", v, !want)
		}
	}
}
