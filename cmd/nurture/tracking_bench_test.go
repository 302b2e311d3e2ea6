package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/tracking"
)

// BenchmarkPixelAndClick: opens and clicks per second, each answered only
// once its event has committed, through the real handler and Postgres,
// beside a bare handler serving the same GIF from the same http.Server
// settings in the same run. Every request is a different mail's, as real
// traffic is, so that no verdict sees a burst.
func BenchmarkPixelAndClick(b *testing.B) {
	const n = 10000
	h := start(b, map[string]string{"NURTURE_TRACKING": "all"})
	msgs := h.seedTrackedMails(2 * n)
	bare := bareGIF(b)
	s := h.signer()
	cpu := newCPUMeter(b, h.app.store.DB())
	get := func(c *http.Client, url string, want int) error {
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
	noRedirect := func(c *http.Client) *http.Client {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return c
	}
	var bareRate, openRate, clickRate float64
	var bareCPU, openCPU, clickCPU cpuTime
	round := 0
	for b.Loop() {
		base := round * n
		round++
		if base+n > len(msgs)/2 {
			b.Fatal("more rounds than seeded mails")
		}
		c0 := cpu.now()
		d := load(b, n, func(c *http.Client, i int) error { return get(c, bare, 200) })
		bareRate, bareCPU = n/d.Seconds(), cpu.now().sub(c0)

		c0 = cpu.now()
		d = load(b, n, func(c *http.Client, i int) error { return get(c, h.base+"/o/"+s.Open(msgs[base+i]), 200) })
		openRate, openCPU = n/d.Seconds(), cpu.now().sub(c0)

		c0 = cpu.now()
		d = load(b, n, func(c *http.Client, i int) error {
			return get(noRedirect(c), h.base+"/c/"+s.Click(msgs[len(msgs)/2+base+i], 0), 302)
		})
		clickRate, clickCPU = n/d.Seconds(), cpu.now().sub(c0)
	}
	var recorded int
	if err := h.db().Get(&recorded, `SELECT count(*) FROM events WHERE verdict = 'human'`); err != nil {
		b.Fatal(err)
	}
	if recorded != 2*n*round {
		b.Fatalf("%d human events recorded, want %d", recorded, 2*n*round)
	}
	per := func(c cpuTime) (float64, float64) {
		return float64(c.self.Microseconds()) / n, float64(c.pg.Microseconds()) / n
	}
	b.ReportMetric(openRate, "opens/s")
	b.ReportMetric(clickRate, "clicks/s")
	b.ReportMetric(bareRate, "bare-gifs/s")
	b.ReportMetric(openRate/bareRate, "open-ratio")
	b.ReportMetric(clickRate/bareRate, "click-ratio")
	og, op := per(openCPU)
	cg, cp := per(clickCPU)
	bg, _ := per(bareCPU)
	b.ReportMetric(og, "open-go-cpu-µs")
	b.ReportMetric(op, "open-pg-cpu-µs")
	b.ReportMetric(cg, "click-go-cpu-µs")
	b.ReportMetric(bg, "bare-go-cpu-µs")
	b.Logf("durable opens %.0f/s, clicks %.0f/s; bare GIF handler %.0f/s; ratios %.2f and %.2f (goal: ≥ 0.4)",
		openRate, clickRate, bareRate, openRate/bareRate, clickRate/bareRate)
	b.Logf("CPU per open %.0f µs here, %.0f µs in Postgres; per click %.0f µs and %.0f µs; per bare GIF %.0f µs", og, op, cg, cp, bg)
}

const benchBrowser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"

// seedTrackedMails inserts n tracked leads with one delivered mail each,
// of two links, and returns the mails' ids.
func (h *harness) seedTrackedMails(n int) []int64 {
	h.t.Helper()
	sent := h.clock.Now().Add(-time.Hour)
	var ids []int64
	err := h.db().Select(&ids, `
		WITH s AS (
			INSERT INTO link_sets (digest, links)
			VALUES (sha256('bench'), '[{"url": "https://acme.example/a", "text": "a"}, {"url": "https://acme.example/b", "text": "b"}]')
			RETURNING id
		), l AS (
			INSERT INTO leads (email, status, created_at, updated_at, confirmed_at, tracking)
			SELECT 'bench' || i || '@example.com', 'confirmed', $1, $1, $1, true FROM generate_series(1, $2::int) i
			RETURNING id
		)
		INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key, link_set_id)
		SELECT 'step', l.id, '<bench.' || l.id || '@test>', 'news@acme.example', 'lead@example.com', 'sent', $1, $1, $1, 'bench/01', s.id
		FROM l, s
		RETURNING id`, sent, n)
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
