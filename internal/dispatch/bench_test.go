package dispatch_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/outbox"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
	"github.com/nurture/nurture/templates"
)

const (
	benchLeads = 20000
	benchConns = 4
)

// seedDue creates n confirmed leads, each enrolled in sequence seq and due
// at now, with set-based SQL.
func seedDue(b *testing.B, db *sqlx.DB, n int, seq string, now time.Time) {
	b.Helper()
	_, err := db.Exec(`TRUNCATE messages, enrolments, events, leads CASCADE`)
	if err == nil {
		_, err = db.Exec(`INSERT INTO leads (email, first_name, status, source, attributes, created_at, updated_at, confirmed_at)
			SELECT 'lead' || g || '@bench.example', 'Lead ' || g, 'confirmed', 'web', '{"company": "Acme"}', $1, $1, $1
			FROM generate_series(1, $2) g`, now, n)
	}
	if err == nil {
		_, err = db.Exec(`INSERT INTO enrolments (lead_id, sequence, state, due_at, enrolled_at)
			SELECT id, $1, 'active', $2, $2 FROM leads`, seq, now)
	}
	if err == nil {
		_, err = db.Exec(`ANALYZE`)
	}
	if err != nil {
		b.Fatal(err)
	}
}

// benchRig is what the dispatch benchmarks share: a database, a mail
// catcher, the bench campaign, and the pre-composed mail of the raw loop.
type benchRig struct {
	db       *sqlx.DB
	st       *store.Store
	sink     *devmail.Server
	set      *campaign.Set
	links    *link.Builder
	smtpCfg  mailer.Config
	composer *mailer.Composer
	sample   campaign.Rendered
	raw      []byte
	log      *slog.Logger
}

func newBenchRig(b *testing.B) *benchRig {
	ctx := context.Background()
	g := &benchRig{log: slog.New(slog.DiscardHandler)}
	g.db, _ = pgtest.NewDB(b)
	var err error
	if g.st, err = store.New(ctx, g.db); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.st.Close() })
	g.sink = devmail.New(devmail.Config{SMTPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", MaxMessages: 2 * benchLeads})
	if err := g.sink.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.sink.Close() })

	dir := b.TempDir()
	writeBench(b, dir)
	set, ps := campaign.Load(dir, templates.FS)
	if set == nil {
		b.Fatal(ps)
	}
	g.set = set
	base, _ := url.Parse("https://nurture.test")
	g.links = link.New(base, token.NewSigner([]byte(strings.Repeat("s", 32))), "")
	if g.smtpCfg, err = mailer.ParseURL("smtp://" + g.sink.SMTPAddr()); err != nil {
		b.Fatal(err)
	}
	g.smtpCfg.Conns = benchConns
	if g.composer, err = mailer.NewComposer(g.smtpCfg); err != nil {
		b.Fatal(err)
	}
	if g.sample, err = campaign.Render(set.Step("bench/news"), campaign.SampleData()); err != nil {
		b.Fatal(err)
	}
	g.raw, err = g.composer.Compose(mailer.Message{
		From: "Acme <news@acme.example>", To: "lead1@bench.example", Subject: g.sample.Subject,
		HTML: g.sample.HTML, Text: g.sample.Text, MessageID: mailer.NewMessageID("acme.example"), Date: time.Now(),
	})
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// start seeds the due step and returns a fresh relay and dispatcher wired
// as serve wires them, and the pool to close after the round.
func (g *benchRig) start(b *testing.B) (*dispatch.Dispatcher, *outbox.Relay, *mailer.Pool) {
	seedDue(b, g.db, benchLeads, "bench", time.Now())
	g.sink.Reset()
	pool := mailer.NewPool(g.smtpCfg, g.log)
	relay := outbox.New(g.st, pool, g.log, time.Now, outbox.Config{Workers: benchConns})
	disp, err := dispatch.New(g.st, func() *campaign.Set { return g.set }, g.composer, g.links, g.log, time.Now,
		dispatch.Config{From: "Acme <news@acme.example>", Sender: relay})
	if err != nil {
		b.Fatal(err)
	}
	return disp, relay, pool
}

// caught fails b unless the catcher holds benchLeads mails.
func (g *benchRig) caught(b *testing.B, what string) {
	if got := len(g.sink.Messages()); got != benchLeads {
		b.Fatalf("%s: %d mails caught, want %d", what, got, benchLeads)
	}
}

// BenchmarkDispatchThroughput sends one due step to 20,000 leads through
// the whole pipeline (claim, render, compose, queue, relay over pooled SMTP,
// record) into the mail catcher, and a bare go-mail loop sending as many
// mails of the same content over as many connections into the same
// catcher, and reports both rates and their ratio.
func BenchmarkDispatchThroughput(b *testing.B) {
	ctx := context.Background()
	g := newBenchRig(b)

	// Each round sends the 20,000 mails through the pipeline, then the same
	// number with the bare loop, back to back. On a noisy 2-core machine one
	// round's ratio moves by ±0.1 from one run to the next, so the figures
	// reported are the medians of benchRounds() rounds.
	var pipeRates, bareRates, rawRates, ratios, rawRatios []float64
	for range b.N {
		for range benchRounds() {
			b.StopTimer()
			disp, relay, pool := g.start(b)
			b.StartTimer()

			start := time.Now()
			pipeline(b, ctx, disp, relay)
			pipe := time.Since(start)
			g.caught(b, "pipeline")
			pool.Close(ctx)

			g.sink.Reset()
			start = time.Now()
			bareLoop(b, g.sink.SMTPAddr(), g.sample)
			bare := time.Since(start)
			g.caught(b, "bare loop")

			g.sink.Reset()
			start = time.Now()
			rawLoop(b, g.sink.SMTPAddr(), g.raw)
			rawTook := time.Since(start)
			g.caught(b, "raw loop")
			p, q, w := benchLeads/pipe.Seconds(), benchLeads/bare.Seconds(), benchLeads/rawTook.Seconds()
			pipeRates, bareRates, rawRates = append(pipeRates, p), append(bareRates, q), append(rawRates, w)
			ratios, rawRatios = append(ratios, p/q), append(rawRatios, p/w)
			b.Logf("round %d: pipeline %.0f msg/s, bare go-mail %.0f msg/s (%.2fx), raw SMTP %.0f msg/s (%.2fx)", len(ratios), p, q, p/q, w, p/w)
		}
	}
	pipeRate, bareRate, rawRate := median(pipeRates), median(bareRates), median(rawRates)
	ratio, rawRatio := median(ratios), median(rawRatios)
	b.ReportMetric(pipeRate, "pipeline-msgs/s")
	b.ReportMetric(bareRate, "bare-msgs/s")
	b.ReportMetric(rawRate, "raw-msgs/s")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(rawRatio, "raw-ratio")
	b.Logf("median of %d rounds: pipeline %.0f msg/s; bare go-mail %.0f msg/s, ratio %.2f; raw SMTP %.0f msg/s, ratio %.2f (goal ≥ 0.9)",
		len(ratios), pipeRate, bareRate, ratio, rawRate, rawRatio)
}

// rawLoop writes the same pre-composed bytes benchLeads times over
// benchConns reused connections with go-mail's smtp client: MAIL, RCPT,
// DATA and nothing else, no composing, no database. It is what the wire
// costs, the pipeline's ceiling.
func rawLoop(b *testing.B, addr string, raw []byte) {
	var wg sync.WaitGroup
	per := benchLeads / benchConns
	for w := range benchConns {
		wg.Go(func() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			c, err := smtp.NewClient(conn, "127.0.0.1")
			if err == nil {
				err = c.Hello("bench.test")
			}
			if err != nil {
				conn.Close()
				b.Error(err)
				return
			}
			defer c.Close()
			for i := range per {
				if err := rawSend(c, fmt.Sprintf("<lead%d@bench.example>", w*per+i), raw); err != nil {
					b.Error(err)
					return
				}
			}
			c.Quit()
		})
	}
	wg.Wait()
}

func rawSend(c *smtp.Client, to string, raw []byte) error {
	if err := c.Mail("<news@acme.example>"); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	return w.Close()
}

// benchRounds is 5, or BENCH_ROUNDS for a quick look (a profile, say).
func benchRounds() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 5
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func writeBench(b *testing.B, dir string) {
	b.Helper()
	t := &testing.T{}
	bw := &bundle{t: t, dir: dir}
	bw.write("bench/sequence.md", "---\nname: Bench\ntrigger: manual\n---\n")
	bw.write("bench/01-news.md", step("News for {{ .Lead.Attr \"company\" }}", "0", "",
		"Hello {{ or .Lead.FirstName \"there\" }},\n\nthis month we shipped [three things](https://acme.example/news). "+
			"Read the [changelog](https://acme.example/changelog) for the details.\n\n- faster sync\n- a new API\n- fewer clicks\n\nThe Acme team"))
}

// pipeline runs the relay as the server does, and the dispatcher handing it
// each batch, until every due enrolment's mail is sent and recorded.
func pipeline(b *testing.B, ctx context.Context, disp *dispatch.Dispatcher, relay *outbox.Relay) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { relay.Run(ctx) })
	defer wg.Wait()
	defer cancel()
	start := time.Now()
	if _, err := disp.Drain(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("dispatcher handled all in %v", time.Since(start))
	for relay.Stats().Sent < benchLeads {
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("relay sent %d of %d", relay.Stats().Sent, benchLeads)
		}
		time.Sleep(time.Millisecond)
	}
}

// bareLoop sends benchLeads mails with go-mail over benchConns reused
// connections: the ceiling for the pipeline.
func bareLoop(b *testing.B, addr string, r campaign.Rendered) {
	host, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	var wg sync.WaitGroup
	per := benchLeads / benchConns
	for w := range benchConns {
		wg.Go(func() {
			c, err := gomail.NewClient(host, gomail.WithPort(port), gomail.WithTLSPolicy(gomail.NoTLS))
			if err != nil {
				b.Error(err)
				return
			}
			if err := c.DialWithContext(context.Background()); err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			for i := range per {
				m := gomail.NewMsg()
				m.From("Acme <news@acme.example>")
				m.To(fmt.Sprintf("lead%d@bench.example", w*per+i))
				m.Subject(r.Subject)
				m.SetMessageIDWithValue(fmt.Sprintf("%d.%d@acme.example", w, i))
				m.SetDate()
				m.SetBodyString(gomail.TypeTextPlain, r.Text)
				m.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
				if err := c.Send(m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
