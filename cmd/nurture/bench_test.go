package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/pgtest"
)

// The signup benchmarks measure the whole path: HTTP, the signup
// transaction, the outbox, composing and SMTP into the catcher. Each reports
// its figure beside a bare baseline measured in the same run, since only the
// ratio holds on a noisy machine.

const benchClients = 32

// load posts n signups from benchClients keep-alive clients and returns the
// elapsed time until post returned for all of them.
func load(b testing.TB, n int, post func(c *http.Client, i int) error) time.Duration {
	return loadFrom(b, benchClients, n, post)
}

// loadFrom is load with that many clients, whose connections are made
// for this load and closed after it.
func loadFrom(b testing.TB, clients, n int, post func(c *http.Client, i int) error) time.Duration {
	client := newBenchClient(clients)
	defer client.CloseIdleConnections()
	return loadWith(b, client, clients, n, post)
}

// newBenchClient is a client that keeps that many connections per host.
func newBenchClient(clients int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
}

// loadWith is loadFrom through client, whose connections it reuses.
func loadWith(b testing.TB, client *http.Client, clients, n int, post func(c *http.Client, i int) error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := post(client, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

func postJSON(c *http.Client, url string, v any, want int) error {
	body, _ := json.Marshal(v)
	res, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	return nil
}

// BenchmarkSignupThroughput: signups per second with the confirmation mail
// queued and delivered to SMTP, beside a bare handler that does one INSERT
// per request: served by the same http.Server settings, on the same Postgres
// cluster, through a pool opened by the same store.Open (so with as many
// connections and the same driver settings). Each side also reports its CPU
// time per signup, of this process (server, clients and, for Nurture, the
// mail catcher) and of Postgres, which holds better than the rates on a
// shared machine.
func BenchmarkSignupThroughput(b *testing.B) {
	const n = 5000
	h := start(b, map[string]string{"NURTURE_RATE_IP": "0", "NURTURE_RATE_EMAIL": "0", "NURTURE_SMTP_CONNS": "8"})
	baseURL := bareServer(b)
	cpu := newCPUMeter(b, h.app.store.DB())

	var nurtureRate, bareRate float64
	var nurtureCPU, bareCPU cpuTime
	for b.Loop() {
		h.mail.Reset()
		run := fmt.Sprint(time.Now().UnixNano())
		c0 := cpu.now()
		bare := load(b, n, func(c *http.Client, i int) error {
			return postJSON(c, baseURL, map[string]string{"email": fmt.Sprintf("bare-%s-%d@example.com", run, i)}, 201)
		})
		bareRate = n / bare.Seconds()
		bareCPU = cpu.now().sub(c0)

		t0 := time.Now()
		c0 = cpu.now()
		accepted := load(b, n, func(c *http.Client, i int) error {
			return postJSON(c, h.base+"/api/v1/subscribe", signup(fmt.Sprintf("bench-%s-%d@example.com", run, i)), 202)
		})
		b.Logf("%d signups accepted in %v (%.0f/s)", n, accepted, n/accepted.Seconds())
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		// WaitCount, not WaitFor: parsing the 5000 caught messages, which
		// WaitFor returns, took ~0.2 s of the timed run after the last one
		// had arrived.
		if err := h.mail.WaitCount(ctx, n); err != nil {
			b.Fatal(err)
		}
		cancel()
		nurtureRate = n / time.Since(t0).Seconds()
		nurtureCPU = cpu.now().sub(c0)
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / n }
	b.ReportMetric(nurtureRate, "signups/s")
	b.ReportMetric(bareRate, "bare-inserts/s")
	b.ReportMetric(nurtureRate/bareRate, "ratio")
	b.ReportMetric(per(nurtureCPU.self), "go-cpu-µs/signup")
	b.ReportMetric(per(nurtureCPU.pg), "pg-cpu-µs/signup")
	b.ReportMetric(per(bareCPU.self), "bare-go-cpu-µs/insert")
	b.ReportMetric(per(bareCPU.pg), "bare-pg-cpu-µs/insert")
	b.Logf("signups with mail delivered: %.0f/s; bare HTTP+INSERT baseline: %.0f/s; ratio %.2f (goal: ≥ 0.3)", nurtureRate, bareRate, nurtureRate/bareRate)
	b.Logf("CPU per signup: %.0f µs here, %.0f µs in Postgres; per bare insert: %.0f µs here, %.0f µs in Postgres",
		per(nurtureCPU.self), per(nurtureCPU.pg), per(bareCPU.self), per(bareCPU.pg))
}

// bareServer is the baseline: JSON decode and one INSERT, nothing else.
func bareServer(b *testing.B) string {
	db, _ := pgtest.NewDB(b)
	db.MustExec(`CREATE TABLE bare (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, at TIMESTAMPTZ NOT NULL DEFAULT now())`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := newHTTPServer(ln.Addr().String(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v struct{ Email string }
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			w.WriteHeader(400)
			return
		}
		if _, err := db.ExecContext(r.Context(), `INSERT INTO bare (email) VALUES ($1)`, v.Email); err != nil {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(201)
	}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// BenchmarkSignupLatency: at idle, the time from sending a signup to the
// confirmation mail's arrival at SMTP, p50 and p99, beside the latency of a
// bare go-mail send of a similar message to the same catcher.
func BenchmarkSignupLatency(b *testing.B) {
	const n = 300
	h := start(b, map[string]string{"NURTURE_RATE_IP": "0", "NURTURE_RATE_EMAIL": "0"})
	client := &http.Client{}
	var lat, bare []time.Duration
	for b.Loop() {
		lat, bare = lat[:0], bare[:0]
		h.mail.Reset()
		raw := bareMessage(b)
		send := bareSender(b, h.mail.SMTPAddr())
		for i := range n {
			t0 := time.Now()
			if err := send(raw); err != nil {
				b.Fatal(err)
			}
			waitCount(b, h, 2*i+1)
			bare = append(bare, time.Since(t0))

			t0 = time.Now()
			if err := postJSON(client, h.base+"/api/v1/subscribe", signup(fmt.Sprintf("idle-%d-%d@example.com", time.Now().UnixNano(), i)), 202); err != nil {
				b.Fatal(err)
			}
			waitCount(b, h, 2*i+2)
			lat = append(lat, time.Since(t0))
		}
	}
	p := func(d []time.Duration, q float64) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[int(q*float64(len(s)-1))]
	}
	b.ReportMetric(float64(p(lat, .5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p(lat, .99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(p(bare, .5).Microseconds())/1000, "bare-p50-ms")
	b.ReportMetric(float64(p(bare, .99).Microseconds())/1000, "bare-p99-ms")
	b.Logf("signup→SMTP latency p50 %v p99 %v; bare go-mail send p50 %v p99 %v (goal: p99 ≤ 1s)",
		p(lat, .5), p(lat, .99), p(bare, .5), p(bare, .99))
}

func waitCount(b *testing.B, h *harness, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.mail.WaitFor(ctx, n); err != nil {
		b.Fatal(err)
	}
}

// bareMessage is a confirmation-sized mail composed once with go-mail.
func bareMessage(b *testing.B) []byte {
	c, err := mailer.NewComposer(mailer.Config{})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := c.Compose(mailer.Message{
		From: "news@acme.example", To: "bare@example.com", Subject: "Please confirm your subscription",
		Text: "please confirm: http://127.0.0.1/confirm/x", HTML: "<p>please confirm</p>",
		MessageID: mailer.NewMessageID("acme.example"), Date: time.Now(),
	})
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// bareSender sends raw mail over one reused go-mail SMTP connection.
func bareSender(b *testing.B, addr string) func(raw []byte) error {
	cfg, err := mailer.ParseURL("smtp://" + addr)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Conns = 1
	pool := mailer.NewPool(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.Cleanup(func() { pool.Close(context.Background()) })
	return func(raw []byte) error {
		return pool.Send(context.Background(), "news@acme.example", "bare@example.com", raw)
	}
}
