package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/tracking"
)

// BenchmarkPixelAndClick: opens and clicks per second, each answered only
// once its event has committed, through the real handler and Postgres,
// beside a bare handler serving the same GIF from the same http.Server
// settings. The three alternate in rounds and each figure is the median
// of its rounds, since on a shared machine the load of the moment moves
// them all. The bare handler answers about three times as fast, so it
// serves three times the requests, for rounds of about the same length:
// a round of a tenth of a second moved by half with a hiccup of the
// machine's. Every request is a different mail's, as in real traffic, so
// that no verdict sees a burst.
//
// It runs at two numbers of clients. A durable answer waits for a commit
// shared by the batch, so a few clients leave the server idle between
// commits, and the figure is the clients' number over the commit's
// latency; the pixel of a mail sent to many people meets far more clients
// at once, so the larger number is the throughput the goal speaks of.
func BenchmarkPixelAndClick(b *testing.B) {
	h := start(b, map[string]string{"NURTURE_TRACKING": "all"})
	p := &pixelBench{h: h, bare: bareGIF(b), cpu: newCPUMeter(b, h.app.store.DB())}
	// A round at each number of clients to warm both servers, their pools,
	// Postgres's caches and the clients' connections.
	p.round(b, benchClients, pixelRequests/2, &pixelFigures{})
	p.round(b, 4*benchClients, pixelRequests/2, &pixelFigures{})
	var few, many pixelFigures
	for b.Loop() {
		few = p.rounds(b, benchClients)
		many = p.rounds(b, 4*benchClients)
	}
	var human int
	if err := h.db().Get(&human, `SELECT count(*) FROM events WHERE verdict = 'human'`); err != nil {
		b.Fatal(err)
	}
	if human != p.seeded {
		b.Fatalf("%d human events recorded, want %d", human, p.seeded)
	}
	for _, f := range []pixelFigures{few, many} {
		f.report(b)
	}
}

const pixelRequests, pixelRounds, bareTimes = 4000, 9, 3

// pixelBench is the server under BenchmarkPixelAndClick and its baseline.
type pixelBench struct {
	h      *harness
	bare   string
	cpu    *cpuMeter
	seeded int // tracked mails so far, each opened or clicked once
	conns  map[int]*http.Client
}

// client is the client of that many connections per server, made once:
// every round reuses the connections the warm-up round made, so that the
// rounds measure requests, not making connections, whose cost a round of
// fewer requests would bear more of per request.
func (p *pixelBench) client(b *testing.B, clients int) *http.Client {
	if c, ok := p.conns[clients]; ok {
		return c
	}
	c := newBenchClient(clients)
	b.Cleanup(c.CloseIdleConnections)
	if p.conns == nil {
		p.conns = map[int]*http.Client{}
	}
	p.conns[clients] = c
	return c
}

// pixelFigures are the rounds at one number of clients.
type pixelFigures struct {
	clients                                     int
	opens, clicks, bares, openRatio, clickRatio []float64
	openCPU, clickCPU, bareCPU                  cpuTime
}

// rounds measures pixelRounds rounds of pixelRequests opens and clicks
// and bareTimes as many bare GIFs from that many clients.
func (p *pixelBench) rounds(b *testing.B, clients int) pixelFigures {
	f := pixelFigures{clients: clients}
	for range pixelRounds {
		p.round(b, clients, pixelRequests, &f)
		f.openRatio = append(f.openRatio, f.opens[len(f.opens)-1]/f.bares[len(f.bares)-1])
		f.clickRatio = append(f.clickRatio, f.clicks[len(f.clicks)-1]/f.bares[len(f.bares)-1])
	}
	return f
}

// round sends bareTimes×n bare GIFs, n opens and n clicks, each open and
// click of a mail of its own, and adds the rates and CPU times to f. The
// URLs are made before the clock starts, as the links of mails are: the
// clients of all three only send a GET (signing a token took the clients
// a few µs a request more than the bare handler's fixed URL).
func (p *pixelBench) round(b *testing.B, clients, n int, f *pixelFigures) {
	s := p.h.signer()
	msgs := p.h.seedTrackedMails(p.seeded, 2*n)
	p.seeded += 2 * n
	opens, clicks := make([]string, n), make([]string, n)
	for i := range n {
		opens[i] = p.h.base + "/o/" + s.Open(msgs[i])
		clicks[i] = p.h.base + "/c/" + s.Click(msgs[n+i], i%2+1)
	}
	measure := func(rates *[]float64, used *cpuTime, n int, get func(c *http.Client, i int) error) {
		c0 := p.cpu.now()
		d := loadWith(b, p.client(b, clients), clients, n, get)
		*rates = append(*rates, float64(n)/d.Seconds())
		*used = addCPU(*used, p.cpu.now().sub(c0))
	}
	measure(&f.bares, &f.bareCPU, bareTimes*n, func(c *http.Client, i int) error { return benchGet(c, p.bare, 200) })
	measure(&f.opens, &f.openCPU, n, func(c *http.Client, i int) error { return benchGet(c, opens[i], 200) })
	measure(&f.clicks, &f.clickCPU, n, func(c *http.Client, i int) error { return benchGet(c, clicks[i], 302) })
}

// report prints the medians, with metric names that carry the clients'
// number, and the CPU time per request.
func (f pixelFigures) report(b *testing.B) {
	events := float64(len(f.opens) * pixelRequests)
	per := func(c cpuTime, events float64) (float64, float64) {
		return float64(c.self.Microseconds()) / events, float64(c.pg.Microseconds()) / events
	}
	c := fmt.Sprintf("c%d-", f.clients)
	b.ReportMetric(median(f.opens), c+"opens/s")
	b.ReportMetric(median(f.clicks), c+"clicks/s")
	b.ReportMetric(median(f.bares), c+"bare-gifs/s")
	b.ReportMetric(median(f.openRatio), c+"open-ratio")
	b.ReportMetric(median(f.clickRatio), c+"click-ratio")
	og, op := per(f.openCPU, events)
	cg, cp := per(f.clickCPU, events)
	bg, _ := per(f.bareCPU, bareTimes*events)
	b.ReportMetric(og, c+"open-go-cpu-µs")
	b.ReportMetric(op, c+"open-pg-cpu-µs")
	b.ReportMetric(cg, c+"click-go-cpu-µs")
	b.ReportMetric(cp, c+"click-pg-cpu-µs")
	b.ReportMetric(bg, c+"bare-go-cpu-µs")
	b.Logf("%d clients: durable opens %.0f/s, clicks %.0f/s; bare GIF handler %.0f/s; ratios %.2f and %.2f (goal: ≥ 0.4); rounds' ratios %.2f and %.2f",
		f.clients, median(f.opens), median(f.clicks), median(f.bares), median(f.openRatio), median(f.clickRatio), f.openRatio, f.clickRatio)
	b.Logf("%d clients: CPU per open %.0f µs here, %.0f µs in Postgres; per click %.0f µs and %.0f µs; per bare GIF %.0f µs (clients included)",
		f.clients, og, op, cg, cp, bg)
}

func addCPU(a, b cpuTime) cpuTime { return cpuTime{self: a.self + b.self, pg: a.pg + b.pg} }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// benchGet sends GET url as a browser would and checks the status. It
// goes through c's transport alone, which follows no redirect: what
// http.Client does with a 302 before it is told not to follow (the
// Location parsed, the headers copied, the next request made) cost the
// clients some 10 µs more per click than per open, which the browser of
// a person clicking pays on its own machine, not the server on its.
func benchGet(c *http.Client, url string, want int) error {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", benchBrowser)
	res, err := c.Transport.RoundTrip(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		return fmt.Errorf("GET %s: status %d", url, res.StatusCode)
	}
	return nil
}

const benchBrowser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"

// seedTrackedMails inserts n tracked leads, numbered from first, with one
// delivered mail each, of two links, and returns the mails' ids.
func (h *harness) seedTrackedMails(first, n int) []int64 {
	h.t.Helper()
	sent := h.clock.Now().Add(-time.Hour)
	var ids []int64
	err := h.db().Select(&ids, `
		WITH s AS (
			INSERT INTO link_sets (digest, links)
			VALUES (sha256('bench'), '[{"url": "https://acme.example/a", "text": "a"}, {"url": "https://acme.example/b", "text": "b"}]')
			ON CONFLICT (digest) DO UPDATE SET digest = EXCLUDED.digest
			RETURNING id
		), l AS (
			INSERT INTO leads (email, status, created_at, updated_at, confirmed_at, tracking)
			SELECT 'bench' || i || '@example.com', 'confirmed', $1, $1, $1, true FROM generate_series($3::int, $3::int + $2::int - 1) i
			RETURNING id
		)
		INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key, link_set_id)
		SELECT 'step', l.id, '<bench.' || l.id || '@test>', 'news@acme.example', 'lead@example.com', 'sent', $1, $1, $1, 'bench/01', s.id
		FROM l, s
		RETURNING id`, sent, n, first)
	if err != nil {
		h.t.Fatal(err)
	}
	return ids
}

// bareGIF is the baseline: a handler that serves the pixel, nothing else.
func bareGIF(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := newHTTPServer(ln.Addr().String(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", tracking.PixelType)
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, tracking.Pixel)
	}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/o/x"
}
