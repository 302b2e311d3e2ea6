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
// them all. Every request is a different mail's, as in real traffic, so
// that no verdict sees a burst.
func BenchmarkPixelAndClick(b *testing.B) {
	const n, rounds = 4000, 3
	h := start(b, map[string]string{"NURTURE_TRACKING": "all"})
	bare := bareGIF(b)
	s := h.signer()
	cpu := newCPUMeter(b, h.app.store.DB())
	noRedirect := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var opens, clicks, bares, openRatio, clickRatio []float64
	var openCPU, clickCPU, bareCPU cpuTime
	// A round to warm both servers, their pools and Postgres's caches.
	warm := h.seedTrackedMails(0, n/2)
	seeded := n / 2
	load(b, n/2, func(c *http.Client, i int) error { return benchGet(c, bare, 200) })
	load(b, n/4, func(c *http.Client, i int) error { return benchGet(c, h.base+"/o/"+s.Open(warm[i]), 200) })
	load(b, n/4, func(_ *http.Client, i int) error {
		return benchGet(noRedirect, h.base+"/c/"+s.Click(warm[n/4+i], 1), 302)
	})
	for b.Loop() {
		for range rounds {
			msgs := h.seedTrackedMails(seeded, 2*n)
			seeded += 2 * n
			c0 := cpu.now()
			d := load(b, n, func(c *http.Client, i int) error { return benchGet(c, bare, 200) })
			bares = append(bares, n/d.Seconds())
			bareCPU = addCPU(bareCPU, cpu.now().sub(c0))

			c0 = cpu.now()
			d = load(b, n, func(c *http.Client, i int) error { return benchGet(c, h.base+"/o/"+s.Open(msgs[i]), 200) })
			opens = append(opens, n/d.Seconds())
			openCPU = addCPU(openCPU, cpu.now().sub(c0))

			c0 = cpu.now()
			d = load(b, n, func(_ *http.Client, i int) error {
				return benchGet(noRedirect, h.base+"/c/"+s.Click(msgs[n+i], i%2+1), 302)
			})
			clicks = append(clicks, n/d.Seconds())
			clickCPU = addCPU(clickCPU, cpu.now().sub(c0))
			openRatio = append(openRatio, opens[len(opens)-1]/bares[len(bares)-1])
			clickRatio = append(clickRatio, clicks[len(clicks)-1]/bares[len(bares)-1])
		}
	}
	var human int
	if err := h.db().Get(&human, `SELECT count(*) FROM events WHERE verdict = 'human'`); err != nil {
		b.Fatal(err)
	}
	if human != seeded {
		b.Fatalf("%d human events recorded, want %d", human, seeded)
	}
	events := float64(len(opens) * n) // per measured open or click; the warm-up is not counted
	per := func(c cpuTime) (float64, float64) {
		return float64(c.self.Microseconds()) / events, float64(c.pg.Microseconds()) / events
	}
	b.ReportMetric(median(opens), "opens/s")
	b.ReportMetric(median(clicks), "clicks/s")
	b.ReportMetric(median(bares), "bare-gifs/s")
	b.ReportMetric(median(openRatio), "open-ratio")
	b.ReportMetric(median(clickRatio), "click-ratio")
	og, op := per(openCPU)
	cg, cp := per(clickCPU)
	bg, _ := per(bareCPU)
	b.ReportMetric(og, "open-go-cpu-µs")
	b.ReportMetric(op, "open-pg-cpu-µs")
	b.ReportMetric(cg, "click-go-cpu-µs")
	b.ReportMetric(cp, "click-pg-cpu-µs")
	b.ReportMetric(bg, "bare-go-cpu-µs")
	b.Logf("durable opens %.0f/s, clicks %.0f/s; bare GIF handler %.0f/s; ratios %.2f and %.2f (goal: ≥ 0.4); rounds' ratios %.2f and %.2f",
		median(opens), median(clicks), median(bares), median(openRatio), median(clickRatio), openRatio, clickRatio)
	b.Logf("CPU per open %.0f µs here, %.0f µs in Postgres; per click %.0f µs and %.0f µs; per bare GIF %.0f µs (clients included)", og, op, cg, cp, bg)
}

func addCPU(a, b cpuTime) cpuTime { return cpuTime{self: a.self + b.self, pg: a.pg + b.pg} }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// benchGet sends GET url as a browser would and checks the status.
func benchGet(c *http.Client, url string, want int) error {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", benchBrowser)
	res, err := c.Do(req)
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
