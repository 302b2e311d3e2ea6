package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// BenchmarkHandoffMailLatency: at idle, the time from the transaction in
// which a lead becomes an MQL (stage change, the handoffs row, Opened) to
// the owner's mail at SMTP, p50 and p99. It is the handoff's share of the
// event-to-owner latency; scoring's share comes before it.
func BenchmarkHandoffMailLatency(b *testing.B) {
	const n = 200
	h := start(b, map[string]string{"NURTURE_CAMPAIGNS": b.TempDir()})
	ctx := context.Background()
	var lat []time.Duration
	caught := 0
	for b.Loop() {
		lat = lat[:0]
		for i := range n {
			ho := store.Handoff{CreatedAt: h.clock.Now(), Owner: "anna@sales.example", Score: 70, Fit: 20, Engagement: 50}
			email := fmt.Sprintf("mql-%d-%d@example.com", time.Now().UnixNano(), i)
			if err := h.db().Get(&ho.LeadID, `INSERT INTO leads (email, status, created_at, updated_at, confirmed_at)
				VALUES ($1, 'confirmed', $2, $2, $2) RETURNING id`, email, ho.CreatedAt); err != nil {
				b.Fatal(err)
			}
			if err := h.db().Get(&ho.ID, `INSERT INTO handoffs (lead_id, created_at, route, owner, score, fit, engagement)
				VALUES ($1, $2, 0, $3, 70, 20, 50) RETURNING id`, ho.LeadID, ho.CreatedAt, ho.Owner); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			if err := h.handOff(ctx, ho); err != nil {
				b.Fatal(err)
			}
			caught++
			waitCount(b, h, caught)
			lat = append(lat, time.Since(t0))
		}
	}
	p := func(q float64) time.Duration {
		s := slices.Clone(lat)
		slices.Sort(s)
		return s[int(q*float64(len(s)-1))]
	}
	b.ReportMetric(float64(p(.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p(.99).Microseconds())/1000, "p99-ms")
	b.Logf("MQL transaction → owner's mail at SMTP: p50 %v p99 %v (goal for the whole chain from the event: p99 ≤ 2s)", p(.5), p(.99))
}
