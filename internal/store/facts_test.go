package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// FactsOf reads the times as epoch microseconds: what it returns is what
// was written, to the microsecond Postgres keeps, before the epoch too,
// by lead and in the order the facts first happened.
func TestFactsOf_ReturnsTheTimesWrittenByLeadInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC)
	anna := confirmedLead(t, s, "anna@example.com", now)
	ben := confirmedLead(t, s, "ben@example.com", now)
	old := time.Date(1969, 7, 20, 20, 17, 40, 654321000, time.UTC)
	written := []store.Fact{
		{LeadID: anna, Kind: store.FactOpen, Key: "drip/hello", FirstAt: now, LastAt: now.Add(time.Hour), Count: 2},
		{LeadID: anna, Kind: store.FactEvent, Key: "demo_requested", FirstAt: old, LastAt: now, Count: 1},
		{LeadID: ben, Kind: store.FactURL, Key: "https://acme.example/pricing", FirstAt: now, LastAt: now, Count: 3},
		{LeadID: ben, Kind: store.FactClick, Key: "drip/hello", URL: "https://acme.example/a", FirstAt: now, LastAt: now, Count: 1},
		{LeadID: ben, Kind: store.FactClick, Key: "drip/hello", URL: "https://acme.example/b", FirstAt: now, LastAt: now, Count: 2},
	}
	var got map[int64][]store.Fact
	err := s.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpsertFacts(ctx, written); err != nil {
			return err
		}
		var err error
		got, err = tx.FactsOf(ctx, []int64{anna, ben, anna + ben + 1})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64][]store.Fact{anna: {written[1], written[0]}, ben: {written[3], written[4], written[2]}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("facts:\n got %+v\nwant %+v", got, want)
	}
}
