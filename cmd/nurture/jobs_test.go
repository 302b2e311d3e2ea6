package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// The server's timed jobs, run as cron runs them but at the test clock's
// time: the digest goes out in its slot, the hourly refresh stores again a
// score older than a day (both as River tasks of their slot), and the
// purge removes a signup never confirmed in 30 days.
func TestJobs_DigestRefreshAndPurgeRunAtTheClocksTime(t *testing.T) {
	t.Parallel()
	h := startSales(t) // Monday 2 November 2026, 09:30 UTC
	id, _ := handOffAnna(t, h, "ben@sales.example", 2)
	if res := h.subscribeJSON(signup("old@example.com")); res.status != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s", res.status, res.body)
	}
	h.waitMail(3)
	c := h.app.jobs(context.Background())
	want := []cron.Schedule{cron.Every(time.Hour), cron.Every(time.Minute), nil, cron.Every(time.Minute), cron.Every(time.Minute)}
	if n := len(c.Entries()); n != len(want) {
		t.Fatalf("%d jobs, want %d", n, len(want))
	}
	job := func(n int) cron.Entry {
		t.Helper()
		e := c.Entry(cron.EntryID(n))
		if w := want[n-1]; w != nil && e.Schedule != w {
			t.Fatalf("job %d runs %+v, want %+v", n, e.Schedule, w)
		}
		return e
	}
	if _, ok := job(3).Schedule.(*cron.SpecSchedule); !ok {
		t.Fatalf("job 3 runs %+v, want @hourly", job(3).Schedule)
	}

	// The digest: nothing before its slot, one mail to the owner in it.
	job(2).Job.Run()
	h.clock.Set(time.Date(2026, 11, 3, 8, 0, 30, 0, time.UTC))
	job(2).Job.Run()
	if m := h.waitMail(4); m.To[0] != "ben@sales.example" || m.Subject != "Your open leads: 1" {
		t.Fatalf("mail 4 is %q to %v, want the digest to ben", m.Subject, m.To)
	}
	if n := countMessages(t, h, "ben@sales.example"); n != 2 {
		t.Errorf("ben has %d mails after the digest, want the owner mail and one digest", n)
	}

	// 31 days on: the refresh stores anna's score again, the purge removes
	// old, who never confirmed, and keeps anna.
	scoreAt := func() time.Time {
		t.Helper()
		var at time.Time
		if err := h.db().Get(&at, `SELECT score_at FROM leads WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return at
	}
	before := scoreAt()
	h.clock.Set(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	job(3).Job.Run()
	waitFor(t, fmt.Sprintf("anna's score of %v, stored again at %v", before, h.clock.Now()), func() bool { return scoreAt().Equal(h.clock.Now()) })
	leads := func(email string) int {
		t.Helper()
		var n int
		if err := h.db().Get(&n, `SELECT count(*) FROM leads WHERE email = $1`, email); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if leads("old@example.com") != 1 {
		t.Fatal("old is gone before the purge")
	}
	job(1).Job.Run()
	if leads("old@example.com") != 0 || leads("anna@example.com") != 1 {
		t.Errorf("after the purge: old %d, anna %d; want 0 and 1", leads("old@example.com"), leads("anna@example.com"))
	}
}
