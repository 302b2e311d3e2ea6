package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/devmail"
)

func TestPurge_DeletesNeverConfirmedLeadsAfterRetention(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	ctx := context.Background()
	db := h.db()
	mails := 0
	join := func(email, source string) devmail.Message {
		t.Helper()
		s := signup(email)
		s["source"] = source
		if res := h.subscribeJSON(s); res.status != 202 {
			t.Fatalf("%s: %d %s", email, res.status, res.body)
		}
		mails++
		return h.waitMail(mails)
	}
	confirm := func(m devmail.Message) {
		t.Helper()
		if res := h.do("POST", strings.TrimPrefix(linkIn(t, m), h.base), "", nil); res.status != 200 {
			t.Fatalf("confirm: %d %s", res.status, res.body)
		}
	}

	// Day 0.
	join("old@example.com", "ebook-datensicherheit")
	confirm(join("confirmed@example.com", "ebook-datensicherheit"))
	h.unsubscribeVia(join("unsub@example.com", "newsletter")) // before ever confirming
	bounced := join("bounced@example.com", "newsletter")
	var bouncedID, bouncedMail int64
	if err := db.QueryRow(`SELECT lead_id, id FROM messages WHERE recipient = $1`, bounced.To[0]).Scan(&bouncedID, &bouncedMail); err != nil {
		t.Fatal(err)
	}
	if err := h.store().Bounce(ctx, bouncedMail, &bouncedID, "550 5.1.1 no such user", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	m := join("left@example.com", "ebook-datensicherheit")
	confirm(m)
	h.unsubscribeVia(m) // confirmed once: its proof stays
	join("again@example.com", "ebook-datensicherheit")
	// Day 10 and day 29: a fresh signup, and a repeat that sends a fresh link.
	h.advance(10 * 24 * time.Hour)
	join("recent@example.com", "webinar")
	h.advance(19 * 24 * time.Hour)
	join("again@example.com", "ebook-datensicherheit")

	purge := func(want int64) {
		t.Helper()
		n, err := h.purge(ctx)
		if err != nil || n != want {
			t.Fatalf("purged %d, %v; want %d", n, err, want)
		}
	}
	gone := func(email string) {
		t.Helper()
		if res := h.do("GET", "/api/v1/leads/"+email, "", nil, "Authorization", "Bearer "+adminToken); res.status != 404 {
			t.Errorf("%s still there after the purge: %d", email, res.status)
		}
		var left int
		if err := db.Get(&left, `SELECT count(*) FROM consent_events WHERE email_hash = sha256(convert_to($1, 'UTF8'))`, email); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("%s left %d ledger entries", email, left)
		}
	}

	// Day 30 and a minute: the first signups of old, unsub and bounced are
	// 30 days old, and so are confirmed and left, which confirmed; again's
	// last mail is a day old, recent's 20 days.
	h.advance(24*time.Hour + time.Minute)
	purge(3)
	for _, email := range []string{"old@example.com", "unsub@example.com", "bounced@example.com"} {
		gone(email)
	}
	for _, email := range []string{"unsub@example.com", "bounced@example.com"} {
		if !h.suppressed(email) {
			t.Errorf("%s is no longer suppressed after the purge", email)
		}
	}
	for _, email := range []string{"confirmed@example.com", "left@example.com", "again@example.com", "recent@example.com"} {
		h.lead(email)
	}

	// Day 59 and two minutes: again's last mail and recent's signup are past the retention too.
	h.advance(29*24*time.Hour + time.Minute)
	purge(2)
	gone("again@example.com")
	gone("recent@example.com")
	if l := h.lead("confirmed@example.com"); l.Status != "confirmed" || len(l.Ledger) != 2 {
		t.Fatalf("confirmed lead after the purges: %+v", l)
	}
	if l := h.lead("left@example.com"); l.Status != "unsubscribed" || len(l.Ledger) != 3 {
		t.Fatalf("unsubscribed lead after the purges: %+v", l)
	}

	var counts []struct {
		Day    time.Time `db:"day"`
		Source string    `db:"source"`
		Purged int64     `db:"purged"`
	}
	if err := h.db().SelectContext(ctx, &counts, `SELECT day, source, purged FROM purge_counts ORDER BY day, source`); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range counts {
		got = append(got, c.Day.Format(time.DateOnly)+" "+c.Source+" "+strconv.FormatInt(c.Purged, 10))
	}
	want := "2026-12-02 ebook-datensicherheit 1, 2026-12-02 newsletter 2, 2026-12-31 ebook-datensicherheit 1, 2026-12-31 webinar 1"
	if strings.Join(got, ", ") != want {
		t.Fatalf("anonymous counts:\n%s\nwant\n%s", strings.Join(got, ", "), want)
	}
}

func TestAdmin_EraseLeavesOnlyProof(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	h.subscribeJSON(signup("kim@example.com"))
	if res := h.do("POST", strings.TrimPrefix(linkIn(t, h.waitMail(1)), h.base), "", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	if res := h.do("DELETE", "/api/v1/leads/kim@example.com", "", nil, "Authorization", "Bearer "+adminToken); res.status != 204 {
		t.Fatalf("erase: %d %s", res.status, res.body)
	}
	if res := h.do("GET", "/api/v1/leads/kim@example.com", "", nil, "Authorization", "Bearer "+adminToken); res.status != 404 {
		t.Fatalf("erased lead found: %d", res.status)
	}
	var left []struct {
		Kind           string `db:"kind"`
		ConsentText    string `db:"consent_text"`
		ConsentVersion string `db:"consent_version"`
		Source         string `db:"source"`
	}
	if err := h.db().Select(&left, `SELECT kind, consent_text, consent_version, source FROM consent_events WHERE email_hash = sha256('kim@example.com')`); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].Kind != "erasure" {
		t.Fatalf("ledger after erasure: %+v", left)
	}
	// The entry says which consent the erasure withdrew.
	if e := left[0]; e.ConsentText != signup("")["consent_text"] || e.ConsentVersion != "ebook-v3" || e.Source != "ebook-datensicherheit" {
		t.Fatalf("erasure entry: %+v", e)
	}
}
