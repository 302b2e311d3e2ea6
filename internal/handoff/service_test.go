package handoff

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/store"
)

func TestOpened_QueuesTheOwnersMailAndTheWebhookInTheCallersTx(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := b.mql(t, "lea@example.com", "anna@sales.example")
	if err := b.store.WithTx(context.Background(), func(tx *store.Tx) error { return b.svc.Opened(context.Background(), tx, h) }); err != nil {
		t.Fatal(err)
	}
	var m struct {
		Kind, Recipient, Status string
		LeadID                  *int64 `db:"lead_id"`
		Raw                     string
	}
	if err := b.db.Get(&m, `SELECT kind, recipient, status, lead_id, convert_from(r.raw, 'UTF8') AS raw
		FROM messages JOIN message_raw r ON r.message_id = messages.id`); err != nil {
		t.Fatal(err)
	}
	if m.Kind != "handoff" || m.Recipient != "anna@sales.example" || m.Status != "queued" || m.LeadID != nil {
		t.Fatalf("queued %+v", m)
	}
	if !strings.Contains(m.Raw, "lea@example.com") {
		t.Fatalf("the mail does not name the lead:\n%s", m.Raw)
	}
	if len(b.hooks.ids) != 1 || b.hooks.ids[0] != h.ID {
		t.Fatalf("webhooks enqueued %v, want [%d]", b.hooks.ids, h.ID)
	}
}

func TestOpened_AFailedWebhookEnqueueRollsTheMailBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := b.mql(t, "lea@example.com", "anna@sales.example")
	b.hooks.err = errHook
	err := b.store.WithTx(context.Background(), func(tx *store.Tx) error { return b.svc.Opened(context.Background(), tx, h) })
	if !errors.Is(err, errHook) {
		t.Fatalf("Opened: %v", err)
	}
	var n int
	if err := b.db.Get(&n, `SELECT count(*) FROM messages`); err != nil || n != 0 {
		t.Fatalf("%d messages after the rollback (%v)", n, err)
	}
}

func TestLinks_SignedForOneActionAndExpiring(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := b.clock.Now()
	exp := now.Add(time.Hour)
	tok := b.svc.linkToken(Accept, 42, exp)
	if id, err := b.svc.verifyLink(Accept, tok, now); err != nil || id != 42 {
		t.Fatalf("verify: %d, %v", id, err)
	}
	for name, c := range map[string]struct {
		a   Action
		tok string
	}{
		"other action": {Qualify, tok},
		"other id":     {Accept, strings.Replace(tok, "42.", "43.", 1)},
		"no mac":       {Accept, strings.Split(tok, ".")[0]},
		"garbage":      {Accept, "x.y.z"},
	} {
		if _, err := b.svc.verifyLink(c.a, c.tok, now); !errors.Is(err, ErrInvalidLink) {
			t.Errorf("%s: %v, want ErrInvalidLink", name, err)
		}
	}
	if _, err := b.svc.verifyLink(Accept, tok, exp); !errors.Is(err, ErrLinkExpired) {
		t.Errorf("at expiry: %v, want ErrLinkExpired", err)
	}
}

func TestDecide_ConcurrentAcceptsTakeOneTurn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := b.mql(t, "lea@example.com", "anna@sales.example")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = b.svc.Decide(context.Background(), h.LeadID, Decision{Action: Accept, Actor: "api"})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var ce *ConflictError
		switch {
		case err == nil:
			ok++
		case !errors.As(err, &ce):
			t.Fatalf("accept: %v", err)
		}
	}
	var changes int
	if err := b.db.Get(&changes, `SELECT count(*) FROM stage_changes WHERE lead_id = $1 AND to_stage = 'sal'`, h.LeadID); err != nil {
		t.Fatal(err)
	}
	if ok != 1 || changes != 1 {
		t.Fatalf("%d accepts took, %d stage changes to sal; want 1 and 1", ok, changes)
	}
}

func TestDecide_RejectNeedsAListedReasonAndRecycles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := b.mql(t, "lea@example.com", "anna@sales.example")
	ctx := context.Background()
	_, err := b.svc.Decide(ctx, h.LeadID, Decision{Action: Reject, Reason: "too_pricey", Actor: "api"})
	var re *ReasonError
	if !errors.As(err, &re) || !strings.Contains(re.Error(), "no_budget, bad_fit") {
		t.Fatalf("unknown reason: %v", err)
	}
	res, err := b.svc.Decide(ctx, h.LeadID, Decision{Action: Reject, Reason: "bad_fit", Actor: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stage != "lead" || res.From != "mql" || res.Status != store.HandoffRejected || res.Enrolled != 1 {
		t.Fatalf("reject: %+v", res)
	}
	var recycled *time.Time
	if err := b.db.Get(&recycled, `SELECT recycled_at FROM leads WHERE id = $1`, h.LeadID); err != nil || recycled == nil || !recycled.Equal(b.clock.Now()) {
		t.Fatalf("recycled_at %v, %v", recycled, err)
	}
	if len(b.steps.recycled) != 1 || b.steps.recycled[0] != h.LeadID {
		t.Fatalf("recycled enrolments asked for %v", b.steps.recycled)
	}
}

func TestDigestDue_OnceASlotAndOnlyWhenDue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mql(t, "lea@example.com", "anna@sales.example")
	b.mql(t, "max@example.com", "ben@sales.example")
	ctx := context.Background()
	if n, err := b.svc.DigestDue(ctx); err != nil || n != 0 {
		t.Fatalf("before 08:00 tomorrow: %d, %v", n, err)
	}
	b.clock.Set(time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC))
	if n, err := b.svc.DigestDue(ctx); err != nil || n != 2 {
		t.Fatalf("at 08:00: %d, %v; want 2 owners", n, err)
	}
	// another node, started since, finds the slot taken
	if n, err := b.again().DigestDue(ctx); err != nil || n != 0 {
		t.Fatalf("another node: %d, %v", n, err)
	}
	var kinds []string
	if err := b.db.Select(&kinds, `SELECT kind || ' ' || recipient FROM messages ORDER BY recipient`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(kinds, ",") != "digest anna@sales.example,digest ben@sales.example" {
		t.Fatalf("queued %v", kinds)
	}
}
