package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/store"
)

// Batches of one open, as at a quiet hour, must not make Postgres plan the
// statement for every call: after its first five calls it runs the
// generic plan, whatever the batches' sizes.
func TestInsertHits_BatchesOfOneRunTheGenericPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	db := s.DB()
	db.SetMaxOpenConns(1) // one session, whose prepared statements pg_prepared_statements shows
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 12 {
		hits := []store.Hit{{MessageID: int64(1000 + i), Type: "open", Link: -1, At: now, Source: "pixel", Verdict: "human", Reason: "a person"}}
		res, err := s.InsertHits(ctx, hits, store.HitOptions{TrackAll: true, Since: now.Add(-time.Minute), ScanWindow: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Known || res[0].ID != 0 {
			t.Fatalf("hit of no mail: %+v", res)
		}
	}
	var generic, custom int
	if err := db.QueryRowContext(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE '%INSERT INTO events (id, lead_id, type, step_key, url, at, source, message_id%'`).Scan(&generic, &custom); err != nil {
		t.Fatal(err)
	}
	if custom > 5 || generic < 7 {
		t.Errorf("insert_hits ran %d generic and %d custom plans in 12 calls; want every call after the fifth generic", generic, custom)
	}
}

// A counted click writes one fact of its step and URL, and no open
// (conditions count the click as its mail's open); a scanner's click
// writes no fact at all, and an open recorded before stays as it was.
func TestInsertHits_AClickWritesOneFactOfItsStepAndURLAndNoOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	db := s.DB()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	mail := func(email string) (lead, msg int64) {
		t.Helper()
		if err := db.GetContext(ctx, &lead, `INSERT INTO leads (email, status, created_at, updated_at, tracking)
			VALUES ($1, 'confirmed', $2, $2, true) RETURNING id`, email, now); err != nil {
			t.Fatal(err)
		}
		if err := db.GetContext(ctx, &msg, `INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key)
			VALUES ('step', $1, '<m' || $2 || '@test>', 'news@acme.example', $2, 'sent', $3, $3, $3, 'welcome/01') RETURNING id`, lead, email, now); err != nil {
			t.Fatal(err)
		}
		return lead, msg
	}
	both, bothMsg := mail("both@example.com")       // an open and a click in the batch
	twice, twiceMsg := mail("twice@example.com")    // two clicks in the batch
	opened, openedMsg := mail("opened@example.com") // an open recorded before
	scanned, scannedMsg := mail("scan@example.com") // only a scanner's click
	if _, err := db.ExecContext(ctx, `INSERT INTO lead_facts (lead_id, kind, key, first_at, last_at, count)
		VALUES ($1, 'open', 'welcome/01', $2, $2, 1)`, opened, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	hit := func(msg int64, typ string, at time.Duration, verdict string) store.Hit {
		h := store.Hit{MessageID: msg, Type: typ, Link: -1, At: now.Add(at), Source: "pixel", Verdict: verdict, Reason: "test"}
		if typ == "click" {
			h.Link, h.URL, h.Source = 1, "https://acme.example/a", "click"
		}
		return h
	}
	hits := []store.Hit{
		hit(bothMsg, "click", 2*time.Minute, "human"),
		hit(bothMsg, "open", 3*time.Minute, "human"),
		hit(twiceMsg, "click", 5*time.Minute, "human"),
		hit(twiceMsg, "click", 4*time.Minute, "human"),
		hit(openedMsg, "click", 6*time.Minute, "human"),
		hit(scannedMsg, "click", 7*time.Minute, "scanner"),
	}
	if _, err := s.InsertHits(ctx, hits, store.HitOptions{TrackAll: true, Since: now, ScanWindow: time.Second}); err != nil {
		t.Fatal(err)
	}
	type fact struct {
		Lead  int64     `db:"lead_id"`
		Kind  string    `db:"kind"`
		Key   string    `db:"key"`
		URL   string    `db:"url"`
		First time.Time `db:"first_at"`
		Last  time.Time `db:"last_at"`
		Count int       `db:"count"`
	}
	var got []fact
	if err := db.SelectContext(ctx, &got, `SELECT lead_id, kind, key, url, first_at, last_at, count FROM lead_facts
		ORDER BY lead_id, kind, key, url`); err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) time.Time { return now.Add(d) }
	want := []fact{
		{both, "click", "welcome/01", "https://acme.example/a", at(2 * time.Minute), at(2 * time.Minute), 1},
		{both, "open", "welcome/01", "", at(3 * time.Minute), at(3 * time.Minute), 1}, // the batch's own open only
		{twice, "click", "welcome/01", "https://acme.example/a", at(4 * time.Minute), at(5 * time.Minute), 2},
		{opened, "click", "welcome/01", "https://acme.example/a", at(6 * time.Minute), at(6 * time.Minute), 1},
		{opened, "open", "welcome/01", "", at(-time.Hour), at(-time.Hour), 1}, // as it was
	}
	if len(got) != len(want) {
		t.Fatalf("facts = %+v\nwant %+v (none for the scanner's lead %d)", got, want, scanned)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Lead != w.Lead || g.Kind != w.Kind || g.Key != w.Key || g.URL != w.URL || !g.First.Equal(w.First) || !g.Last.Equal(w.Last) || g.Count != w.Count {
			t.Errorf("fact %d = %+v, want %+v", i, g, w)
		}
	}
}

// annasMail is a tracked lead's step mail, sent at now.
func annasMail(t *testing.T, s *store.Store, now time.Time) int64 {
	t.Helper()
	var mail int64
	err := s.DB().GetContext(context.Background(), &mail, `
		WITH l AS (INSERT INTO leads (email, status, created_at, updated_at, tracking)
		           VALUES ('anna@example.com', 'confirmed', $1, $1, true) RETURNING id)
		INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key)
		SELECT 'step', l.id, '<m@test>', 'news@acme.example', 'anna@example.com', 'sent', $1, $1, $1, 'welcome/01' FROM l
		RETURNING id`, now)
	if err != nil {
		t.Fatal(err)
	}
	return mail
}

// The batch's texts reach Postgres as binary arrays the store encodes
// itself: every text must come back as it went, whatever it holds.
func TestInsertHits_TextsComeBackAsTheyWent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	mail := annasMail(t, s, now)
	texts := []string{"", "NULL", `say "hi"`, `C:\path\`, `\"`, "a,b", "{x}", " spaced ", "zwölf Äpfel – 😀", "tab\tnew\nline", `""`, `\\`}
	var hits []store.Hit
	for i, text := range texts {
		hits = append(hits, store.Hit{MessageID: mail, Type: "open", Link: -1, At: now.Add(time.Duration(i) * time.Second),
			Source: "pixel", Verdict: "human", Reason: text, UserAgent: text + "/ua", IPPrefix: text})
	}
	if _, err := s.InsertHits(ctx, hits, store.HitOptions{TrackAll: true, Since: now, ScanWindow: time.Second}); err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Reason    string `db:"reason"`
		UserAgent string `db:"user_agent"`
		IPPrefix  string `db:"ip_prefix"`
	}
	if err := s.DB().SelectContext(ctx, &got, `SELECT reason, user_agent, ip_prefix FROM events ORDER BY at`); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(texts) {
		t.Fatalf("%d events, want %d", len(got), len(texts))
	}
	for i, text := range texts {
		if g := got[i]; g.Reason != text || g.UserAgent != text+"/ua" || g.IPPrefix != text {
			t.Errorf("text %q came back as %q, %q, %q", text, g.Reason, g.UserAgent, g.IPPrefix)
		}
	}
}

// The batch's times and numbers go in binary too: a time comes back
// rounded to the microsecond as Postgres rounds, whatever its zone and
// even before Postgres's epoch of 2000, and a link beyond an int's range
// is an error, not a wrapped number.
func TestInsertHits_TimesComeBackToTheMicrosecond(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	mail := annasMail(t, s, now)
	berlin := time.FixedZone("CET", 3600)
	times := []time.Time{
		now.Add(499 * time.Nanosecond),
		now.Add(time.Second + 500*time.Nanosecond),
		time.Date(1999, 12, 31, 23, 59, 59, 999_998_700, time.UTC),
		time.Date(2026, 3, 1, 11, 30, 0, 123_456_000, berlin),
	}
	var hits []store.Hit
	for _, at := range times {
		hits = append(hits, store.Hit{MessageID: mail, Type: "open", Link: -1, At: at, Source: "pixel", Verdict: "human"})
	}
	if _, err := s.InsertHits(ctx, hits, store.HitOptions{TrackAll: true, Since: now, ScanWindow: time.Second}); err != nil {
		t.Fatal(err)
	}
	var got []time.Time
	if err := s.DB().SelectContext(ctx, &got, `SELECT at FROM events ORDER BY at`); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(times) {
		t.Fatalf("%d events, want %d", len(got), len(times))
	}
	slices.SortFunc(times, time.Time.Compare)
	for i, at := range times {
		if want := at.Round(time.Microsecond); !got[i].Equal(want) {
			t.Errorf("time %v came back as %v, want %v", at, got[i], want)
		}
	}
	far := []store.Hit{{MessageID: mail, Type: "click", Link: 1 << 31, At: now, Source: "click", Verdict: "human"}}
	if _, err := s.InsertHits(ctx, far, store.HitOptions{TrackAll: true, Since: now, ScanWindow: time.Second}); err == nil {
		t.Error("a link of 2^31 was written; want an error")
	}
}

// A known quick click comes back with its mail's lead, link set and link,
// and the set's links only when the caller does not have them.
func TestInsertHits_AQuickClickBringsItsLinksUnlessTheCallerHasThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	db := s.DB()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var lead, set int64
	var mails []int64
	err := db.GetContext(ctx, &lead, `INSERT INTO leads (email, status, created_at, updated_at, tracking)
		VALUES ('anna@example.com', 'confirmed', $1, $1, true) RETURNING id`, now)
	if err == nil {
		err = db.GetContext(ctx, &set, `INSERT INTO link_sets (digest, links)
			VALUES ('\x01', '[{"url": "https://acme.example/a", "text": "a"}, {"url": "https://acme.example/b", "text": "b"}]') RETURNING id`)
	}
	if err == nil {
		err = db.SelectContext(ctx, &mails, `INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key, link_set_id)
			SELECT 'step', $1, '<m' || i || '@test>', 'news@acme.example', 'anna@example.com', 'sent', $2, $2, $2, 'welcome/01', $3
			FROM generate_series(1, 2) i RETURNING id`, lead, now.Add(-time.Hour), set)
	}
	if err != nil {
		t.Fatal(err)
	}
	click := func(mail int64, known ...int64) store.HitResult {
		t.Helper()
		hits := []store.Hit{{MessageID: mail, Type: "click", Link: 2, At: now, Source: "click", Verdict: "human", Reason: "a person", Quick: true, Quiet: true}}
		res, err := s.InsertHits(ctx, hits, store.HitOptions{Since: now.Add(-time.Minute), ScanWindow: time.Second, KnownSets: known})
		if err != nil {
			t.Fatal(err)
		}
		return res[0]
	}
	r := click(mails[0])
	if !r.Known || r.ID == 0 || r.LeadID != lead || r.LinkSet != set || r.URL != "https://acme.example/b" ||
		len(r.Links) != 2 || r.Links[1].URL != "https://acme.example/b" {
		t.Errorf("first click = %+v, want it written with its lead, set, link and the set's links", r)
	}
	r = click(mails[1], 7, set)
	if !r.Known || r.ID == 0 || r.LeadID != lead || r.LinkSet != set || r.URL != "https://acme.example/b" || r.Links != nil {
		t.Errorf("click of a set the caller has = %+v, want it written with its lead, set and link, no links", r)
	}
}
