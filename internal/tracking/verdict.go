package tracking

import (
	"cmp"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Verdict says who most likely fetched a pixel or followed a link.
type Verdict string

const (
	Human      Verdict = "human"
	AppleMPP   Verdict = "apple_mpp"   // Apple Mail Privacy Protection loading every image
	ImageProxy Verdict = "image_proxy" // Gmail's or Yahoo's proxy: a real open, device unknown
	Scanner    Verdict = "scanner"     // a mail security service or other program
	Prefetch   Verdict = "prefetch"    // a HEAD request or a browser's speculative load
)

// Verdicts lists every verdict.
var Verdicts = []Verdict{Human, AppleMPP, ImageProxy, Scanner, Prefetch}

// Counts reports whether an event with this verdict scores and counts in
// conditions: only a person's, and an image proxy's, which fetches for one.
func (v Verdict) Counts() bool { return v == Human || v == ImageProxy }

// Defaults of a Judge. A scanner follows every link of a mail at nearly the
// same moment, well inside a second; a person reading a mail seldom clicks
// two of its links within one and a half. The burst window is also how
// long a click waits before it scores, so it bounds how soon a click that
// makes a lead an MQL reaches sales: 1.5 s leaves the rest of the 2 s that
// the handoff may take for scoring and the owner's mail.
const (
	DefaultScanWindow  = 30 * time.Second
	DefaultBurstWindow = 1500 * time.Millisecond
)

// Judge gives verdicts. The zero Judge knows no networks and uses the
// default windows.
type Judge struct {
	// Scanners are the networks of scanning services, usually
	// DefaultScanners().
	Scanners *Ranges
	// Apple are Apple's egress ranges (ParseAppleEgress), when the operator
	// supplies them; they confirm an Apple MPP verdict.
	Apple *Ranges
	// ScanWindow: a click sooner than this after delivery is a scanner's,
	// unless the request shows a person's hand. Default 30s.
	ScanWindow time.Duration
	// BurstWindow: clicks on several links of one mail, each within this of
	// the next, are a scanner's. Default DefaultBurstWindow.
	BurstWindow time.Duration
}

// Hit is what the server knows of one request to a pixel or a link.
type Hit struct {
	Kind      Kind // from the token: open, click or honeypot
	Link      int  // the link's index, for a click
	Method    string
	Header    http.Header
	IP        netip.Addr
	At        time.Time
	Delivered time.Time // when the mail was handed to the receiving server; zero if unknown
	// Recent are the clicks of the same mail recorded shortly before (a
	// few burst windows back is enough), in any order.
	Recent []Click
}

// Click is an earlier click of the same mail.
type Click struct {
	ID       int64
	Link     int
	Honeypot bool
	At       time.Time
	Verdict  Verdict
}

// Judgement is a verdict, why it was given, and which earlier clicks of the
// same burst are to be marked as a scanner's too (by Click.ID).
type Judgement struct {
	Verdict Verdict
	Reason  string
	Remark  []int64
}

// Decide gives the verdict on one hit. The rules, first match wins:
//   - HEAD, or a Sec-Purpose, Purpose or X-Purpose header saying prefetch
//     or preview, or X-Moz: prefetch: prefetch;
//   - the honeypot link: scanner, and the other clicks of its burst too;
//   - an address in a scanner network: scanner;
//   - for an open, Gmail's GoogleImageProxy or Yahoo's proxy: image_proxy,
//     and the user agent exactly "Mozilla/5.0": apple_mpp;
//   - a user agent of a program (none, curl, HeadlessChrome and the like),
//     or for a click one of the proxies' above: scanner;
//   - a click in a burst on several links of the mail: scanner, and the
//     burst's earlier clicks too;
//   - a click sooner after delivery than the scan window, unless the
//     request says a person clicked (Sec-Fetch-User: ?1): scanner;
//   - anything else: human.
func (j Judge) Decide(h Hit) Judgement {
	ua := strings.TrimSpace(h.Header.Get("User-Agent"))
	if why := prefetch(h); why != "" {
		return Judgement{Verdict: Prefetch, Reason: why}
	}
	if h.Kind == KindHoneypot {
		return Judgement{Verdict: Scanner,
			Reason: "followed the hidden honeypot link, which no person can see",
			Remark: remark(j.burst(h))}
	}
	if e, ok := j.Scanners.Lookup(h.IP); ok {
		return Judgement{Verdict: Scanner, Reason: fmt.Sprintf("came from %s's network %s", e.Label, e.Prefix)}
	}
	if v, why := j.byAgent(h, ua); v != "" {
		return Judgement{Verdict: v, Reason: why}
	}
	if h.Kind != KindClick {
		return Judgement{Verdict: Human, Reason: "an open by a mail client"}
	}
	burst := j.burst(h)
	if links := burstLinks(h, burst); links > 1 || slices.ContainsFunc(burst, func(c Click) bool { return c.Honeypot }) {
		why := fmt.Sprintf("one of %d clicks on %d links of the mail within %s of each other", len(burst)+1, links, j.burstWindow())
		if links <= 1 {
			why = "clicked in the same burst as the hidden honeypot link"
		}
		return Judgement{Verdict: Scanner, Reason: why, Remark: remark(burst)}
	}
	if !h.Delivered.IsZero() {
		if d := h.At.Sub(h.Delivered); d < j.scanWindow() {
			if h.Header.Get("Sec-Fetch-User") == "?1" {
				return Judgement{Verdict: Human, Reason: fmt.Sprintf("clicked %s after delivery, but the browser says a person clicked (Sec-Fetch-User)", roundDur(d))}
			}
			return Judgement{Verdict: Scanner, Reason: fmt.Sprintf("clicked %s after delivery, sooner than the scan window of %s", roundDur(d), j.scanWindow())}
		}
	}
	return Judgement{Verdict: Human, Reason: "a click in a browser"}
}

func (j Judge) scanWindow() time.Duration  { return cmp.Or(j.ScanWindow, DefaultScanWindow) }
func (j Judge) burstWindow() time.Duration { return cmp.Or(j.BurstWindow, DefaultBurstWindow) }

// prefetch returns why the request is a prefetch, or "".
func prefetch(h Hit) string {
	if strings.EqualFold(h.Method, http.MethodHead) {
		return "a HEAD request, which fetches no content"
	}
	for _, name := range []string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"} {
		for _, v := range h.Header.Values(name) {
			l := strings.ToLower(v)
			if strings.Contains(l, "prefetch") || strings.Contains(l, "preview") {
				return fmt.Sprintf("a speculative load (%s: %s)", name, v)
			}
		}
	}
	return ""
}

// botAgents are parts of user agents that programs send, lower case.
var botAgents = []string{"headlesschrome", "phantomjs", "python-requests", "python-urllib", "curl/", "wget/",
	"go-http-client", "libwww-perl", "java/", "okhttp", "scrapy", "httpclient", "bot/", "bot;", "spider", "crawler"}

// byAgent judges by the user agent alone, or returns "".
func (j Judge) byAgent(h Hit, ua string) (Verdict, string) {
	proxy := ""
	switch {
	case strings.Contains(ua, "GoogleImageProxy"):
		proxy = "Gmail's image proxy (GoogleImageProxy)"
	case strings.Contains(ua, "YahooMailProxy"):
		proxy = "Yahoo's image proxy (YahooMailProxy)"
	}
	switch {
	case proxy != "" && h.Kind == KindOpen:
		return ImageProxy, "loaded through " + proxy + ": a real open, device and place unknown"
	case proxy != "":
		return Scanner, "a link followed by " + proxy + ", which only loads images"
	case ua == "Mozilla/5.0" && h.Kind == KindOpen:
		why := "user agent exactly Mozilla/5.0, as Apple Mail Privacy Protection sends"
		if j.Apple.Len() > 0 {
			if e, ok := j.Apple.Lookup(h.IP); ok {
				why += fmt.Sprintf(", from Apple's egress range %s", e.Prefix)
			} else {
				why += ", though not from one of Apple's egress ranges"
			}
		}
		return AppleMPP, why
	case ua == "Mozilla/5.0":
		return Scanner, "a click with the bare user agent Mozilla/5.0, which no browser sends"
	case ua == "":
		return Scanner, "no user agent: a program, not a mail client or browser"
	}
	l := strings.ToLower(ua)
	for _, b := range botAgents {
		if strings.Contains(l, b) {
			return Scanner, fmt.Sprintf("the user agent of a program (%s)", ua)
		}
	}
	return "", ""
}

// burst returns the recent clicks that form one burst with h: each within
// the burst window of another member, h included.
func (j Judge) burst(h Hit) []Click {
	w := j.burstWindow()
	cs := slices.Clone(h.Recent)
	slices.SortFunc(cs, func(a, b Click) int { return a.At.Compare(b.At) })
	lo, hi := h.At, h.At
	in := make([]bool, len(cs))
	for grown := true; grown; {
		grown = false
		for i, c := range cs {
			if !in[i] && !c.At.Before(lo.Add(-w)) && !c.At.After(hi.Add(w)) {
				in[i], grown = true, true
				lo, hi = minTime(lo, c.At), maxTime(hi, c.At)
			}
		}
	}
	var out []Click
	for i, c := range cs {
		if in[i] {
			out = append(out, c)
		}
	}
	return out
}

// burstLinks counts the distinct links clicked in a burst, h's included.
func burstLinks(h Hit, burst []Click) int {
	seen := map[int]bool{}
	if h.Kind == KindClick {
		seen[h.Link] = true
	}
	for _, c := range burst {
		if !c.Honeypot {
			seen[c.Link] = true
		}
	}
	return len(seen)
}

// remark lists the clicks of a burst that are not yet marked as a
// scanner's or a prefetch.
func remark(burst []Click) []int64 {
	var ids []int64
	for _, c := range burst {
		if c.Verdict != Scanner && c.Verdict != Prefetch && !c.Honeypot {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func roundDur(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}
