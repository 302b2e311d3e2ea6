package dispatch_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
	"github.com/nurture/nurture/templates"
)

const (
	eventsLeads  = 20_000     // leads the events are spread over: 500 each
	eventsTotal  = 10_000_000 // rows in the events table of the full database
	eventsDue    = 5_000      // enrolments due in each round: ten batches
	eventsBatch  = 500        // the dispatcher's default batch
	eventsRounds = 5          // rounds on each database, alternating
)

// seedEventsDB creates eventsLeads confirmed leads, eventsDue of them
// enrolled in sequence "drip", and with events, eventsTotal events spread
// over all leads (types, steps and addresses from small sets, as a real
// history repeats them) and the lead facts such a history makes.
// The events go in with the table's indexes dropped and built again after,
// which is what makes ten million rows take seconds rather than minutes.
func seedEventsDB(b *testing.B, db *sqlx.DB, events int, now time.Time) {
	b.Helper()
	type stmt struct {
		q    string
		args []any
	}
	stmts := []stmt{
		{`INSERT INTO leads (email, first_name, status, source, tracking, created_at, updated_at, confirmed_at)
			SELECT 'lead' || g || '@bench.example', 'Lead', 'confirmed', 'web', true, $1, $1, $1 FROM generate_series(1, $2) g`,
			[]any{now, eventsLeads}},
		{`INSERT INTO enrolments (lead_id, sequence, state, due_at, enrolled_at)
			SELECT id, 'drip', 'active', $1::timestamptz - interval '1 minute', $1::timestamptz - interval '30 days' FROM leads WHERE id <= $2`,
			[]any{now, eventsDue}},
	}
	if events > 0 {
		stmts = append(stmts,
			stmt{q: `DROP INDEX events_lead_idx, events_unscored_idx, events_message_idx`},
			// Event g: lead g mod the leads, one of 240 kinds (a type, a
			// step and an address) by g's other digits, at a time in the
			// last 60 days.
			stmt{`WITH c AS MATERIALIZED (
				SELECT i, (ARRAY['open', 'click', 'page_view', 'download', 'demo_requested'])[1 + i % 5] AS type,
					'drip/step-' || (i / 5) % 8 AS step_key, 'https://acme.example/page-' || (i / 40) % 6 AS url
				FROM generate_series(0, 239) i
			)
			INSERT INTO events (lead_id, type, step_key, url, at, source, scored_at)
				SELECT 1 + g % $2, c.type, c.step_key, c.url, $1::timestamptz - (g % 86400) * interval '1 minute', 'api', $1
				FROM generate_series(1, $3) g JOIN c ON c.i = (g / $2) % 240`, []any{now, eventsLeads, events}},
			stmt{q: `CREATE INDEX events_lead_idx ON events (lead_id, at)`},
			stmt{q: `CREATE INDEX events_unscored_idx ON events (id) WHERE scored_at IS NULL`},
			stmt{q: `CREATE INDEX events_message_idx ON events (message_id, at) WHERE message_id IS NOT NULL`},
			stmt{q: `ANALYZE events`},
			// The facts those events make, each lead's: every event type,
			// the opens of the steps, the clicks of the steps with their
			// links, and the pages viewed. They are made from the same sets
			// rather than grouped from ten million rows, which would take
			// minutes.
			stmt{`INSERT INTO lead_facts (lead_id, kind, key, url, first_at, last_at, count)
				SELECT l.id, k.kind, k.key, k.url, $1::timestamptz - interval '60 days', $1::timestamptz - (l.id % 1440) * interval '1 minute', k.n
				FROM leads l CROSS JOIN (
					SELECT 'event', t, '', $2 / 5 FROM unnest(ARRAY['open', 'click', 'page_view', 'download', 'demo_requested']) t
					UNION ALL SELECT 'open', 'drip/step-' || s, '', $2 / 20 FROM generate_series(0, 7) s
					UNION ALL SELECT 'click', 'drip/step-' || s, 'https://acme.example/page-' || s % 6, $2 / 40 FROM generate_series(0, 7) s
					UNION ALL SELECT 'url', 'https://acme.example/page-' || u, '', $2 / 15 FROM generate_series(0, 5) u
				) AS k(kind, key, url, n)`, []any{now, events / eventsLeads}},
		)
	}
	stmts = append(stmts, stmt{q: `VACUUM ANALYZE leads`}, stmt{q: `VACUUM ANALYZE enrolments`}, stmt{q: `VACUUM ANALYZE lead_facts`})
	start := time.Now()
	for _, st := range stmts {
		at := time.Now()
		if _, err := db.Exec(st.q, st.args...); err != nil {
			b.Fatalf("seed: %v\n%s", err, st.q)
		}
		if d := time.Since(at); d > 5*time.Second {
			b.Logf("seed: %v: %.60s", d.Round(time.Second), strings.TrimSpace(st.q))
		}
	}
	var n, facts int64
	if err := db.Get(&n, `SELECT count(*) FROM events`); err != nil || n != int64(events) {
		b.Fatalf("%d events (%v), want %d", n, err, events)
	}
	if err := db.Get(&facts, `SELECT count(*) FROM lead_facts`); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d events and %d lead facts over %d leads in %v", n, facts, eventsLeads, time.Since(start).Round(time.Millisecond))
}

// resetDue makes the due enrolments due again at their first step, and
// empties the outbox, so that each round does the same work.
func resetDue(b *testing.B, db *sqlx.DB, now time.Time) {
	b.Helper()
	for _, q := range []string{
		`TRUNCATE message_raw, messages CASCADE`,
		`UPDATE enrolments SET state = 'active', steps_done = '{}', last_order = 0, last_sent_at = NULL,
			last_passed_at = NULL, ended_at = NULL, ended_reason = '', due_at = $1::timestamptz - interval '1 minute'`,
		`VACUUM ANALYZE enrolments`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{now}
		}
		if _, err := db.Exec(q, args...); err != nil {
			b.Fatal(err)
		}
	}
}

// writeDrip writes the sequence the benchmark walks: a first step whose
// condition asks about events, clicks and the temperature, exits on an
// event and a click, and more steps after it.
func writeDrip(b *testing.B, dir string) {
	b.Helper()
	files := map[string]string{
		"drip/sequence.md": "---\ntrigger: confirmed\nexit:\n  event: signed_contract\n  clicked_url: https://acme.example/cancel*\n---\n",
		"drip/01-news.md": "---\nsubject: News for {{ .Lead.FirstName }}\ndelay: 0\n" +
			`if: not ("unsubscribed_from_sequence" in events) and (clicked_url("https://acme.example/page-*") or temperature == "cold")` + "\n---\n" +
			"Hello {{ .Lead.FirstName }},\n\nread [the guide](https://acme.example/guide), see [pricing](https://acme.example/pricing) " +
			"or [book a demo](https://acme.example/demo).\n",
		"drip/02-more.md": "---\nsubject: More\ndelay: 2d\nif: opened(previous)\n---\nMore.\n",
	}
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDispatchBatchEvents measures what the dispatcher costs per batch
// of 500 due enrolments (claim, lead facts, conditions and exits, render,
// tracking, link sets, queueing), with 10,000,000 events in the events
// table and their lead facts, beside the same on a database without
// events, in the same run. The cost is the CPU of this process and of the
// Postgres server, which holds on a machine busy with other work, and the
// wall time. The goal is a ratio of at most 1.5: the dispatcher reads the
// lead facts, never the events.
func BenchmarkDispatchBatchEvents(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	dir := b.TempDir()
	writeDrip(b, dir)
	set, ps := campaign.Load(dir, templates.FS)
	if set == nil {
		b.Fatal(ps)
	}
	base, _ := url.Parse("https://nurture.test")
	links := link.New(base, token.NewSigner([]byte(strings.Repeat("s", 32))), "")
	composer, err := mailer.NewComposer(mailer.Config{})
	if err != nil {
		b.Fatal(err)
	}
	open := func(events int) (*sqlx.DB, *dispatch.Dispatcher) {
		db, _ := pgtest.NewDB(b)
		seedEventsDB(b, db, events, now)
		st, err := store.New(ctx, db)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		d, err := dispatch.New(st, func() *campaign.Set { return set }, composer, links, slog.New(slog.DiscardHandler),
			func() time.Time { return now }, dispatch.Config{
				From: "Acme <news@acme.example>", Batch: eventsBatch, Tracking: dispatch.TrackingAll, Signer: trackSigner,
			})
		if err != nil {
			b.Fatal(err)
		}
		return db, d
	}
	emptyDB, empty := open(0)
	fullDB, full := open(eventsTotal)
	m := newMeter(b, fullDB)
	round := func(db *sqlx.DB, d *dispatch.Dispatcher) (cost, time.Duration) {
		resetDue(b, db, now)
		runtime.GC()
		before, start := m.read(), time.Now()
		n, err := d.Drain(ctx)
		wall, c := time.Since(start), m.read().minus(before)
		if err != nil || n != eventsDue {
			b.Fatalf("drained %d (%v), want %d", n, err, eventsDue)
		}
		var queued int
		if err := db.Get(&queued, `SELECT count(*) FROM messages WHERE link_set_id IS NOT NULL`); err != nil || queued != eventsDue {
			b.Fatalf("%d tracked mails queued (%v), want %d", queued, err, eventsDue)
		}
		return c, wall
	}
	round(emptyDB, empty) // warm up caches and plans
	round(fullDB, full)
	b.ResetTimer()
	var emptyCPU, fullCPU, emptyWall, fullWall []float64
	for range b.N {
		for range eventsRounds {
			c, w := round(emptyDB, empty)
			emptyCPU, emptyWall = append(emptyCPU, perBatch(c.cpu+c.pg)), append(emptyWall, perBatch(w))
			c, w = round(fullDB, full)
			fullCPU, fullWall = append(fullCPU, perBatch(c.cpu+c.pg)), append(fullWall, perBatch(w))
		}
	}
	ec, fc, ew, fw := median(emptyCPU), median(fullCPU), median(emptyWall), median(fullWall)
	b.ReportMetric(ec, "cpu-ms/batch-empty")
	b.ReportMetric(fc, "cpu-ms/batch-10M")
	b.ReportMetric(fc/ec, "cpu-ratio")
	b.ReportMetric(ew, "ms/batch-empty")
	b.ReportMetric(fw, "ms/batch-10M")
	b.ReportMetric(fw/ew, "ratio")
	b.Logf("batch of %d: %.1f ms (%.1f ms CPU with Postgres's) with no events, %.1f ms (%.1f ms CPU) with %d events: ratio %.2f wall, %.2f CPU (goal ≤ 1.5)",
		eventsBatch, ew, ec, fw, fc, eventsTotal, fw/ew, fc/ec)
}

// perBatch is a round's figure per batch, in milliseconds.
func perBatch(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond) / (eventsDue / eventsBatch)
}
