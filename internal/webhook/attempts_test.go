package webhook_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nurture/nurture/internal/store"
)

// A 500 then a 200: the service lists both attempts of the handoff, oldest
// first, and there are none of a handoff that does not exist.
func TestAttempts_ListsAHandoffsAttemptsOldestFirst(t *testing.T) {
	t.Parallel()
	b := setup(t, status(500), status(200))
	svc := b.fastService(t)
	b.enqueue(t, svc)
	b.waitState(t, store.WebhookDelivered)
	as, err := svc.Attempts(context.Background(), b.handoff)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].Status != 500 || as[1].Status != 200 || as[0].At.After(as[1].At) || as[0].ID >= as[1].ID {
		t.Fatalf("attempts = %+v, want a 500 then a 200", as)
	}
	for _, a := range as {
		if a.HandoffID != b.handoff || a.URL != b.recv.srv.URL {
			t.Errorf("attempt %+v, want of handoff %d to %s", a, b.handoff, b.recv.srv.URL)
		}
	}
	if as, err := svc.Attempts(context.Background(), b.handoff+1); !errors.Is(err, store.ErrNotFound) || len(as) != 0 {
		t.Errorf("attempts of no handoff: %+v, %v; want store.ErrNotFound", as, err)
	}
}
