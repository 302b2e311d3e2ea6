package store_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/migrations"
)

// Migration 0006 on a database in use: links issued before it carry what
// their lead holds, and leads that opted out keep when, so their old links
// stop confirming.
func TestMigration0006_OldLinksAndOptOutsCarryOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, p := migratedTo(t, 4)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO leads (id, email, first_name, status, source, attributes, created_at, updated_at, unsubscribed_at)
		 VALUES (1, 'a@example.com', 'Anna', 'pending', 'ebook', '{"company": "Acme"}', $1, $1, NULL),
		        (2, 'b@example.com', 'Ben', 'unsubscribed', 'web', '{}', $1, $1 + interval '2 hours', $1 + interval '1 hour'),
		        (3, 'c@example.com', 'Cleo', 'bounced', 'web', '{}', $1, $1 + interval '3 hours', NULL),
		        (4, 'd@example.com', 'Dan', 'confirmed', 'web', '{}', $1, $1, NULL)`,
		`INSERT INTO consent_events (id, lead_id, email_hash, kind, at) VALUES (1, 1, '\x00', 'signup', $1)`,
		`INSERT INTO confirm_tokens (hash, lead_id, signup_event_id, created_at, expires_at) VALUES ('\x01', 1, 1, $1, $1)`,
	} {
		if _, err := db.ExecContext(ctx, q, at); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}

	var data string
	if err := db.QueryRowContext(ctx, `SELECT lead_data::text FROM confirm_tokens`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	if want := `{"source": "ebook", "last_name": "", "attributes": {"company": "Acme"}, "first_name": "Anna"}`; data != want {
		t.Errorf("lead_data = %s, want %s", data, want)
	}
	rows, err := db.QueryContext(ctx, `SELECT id, opted_out_at FROM leads ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[int64]*time.Time{1: nil, 2: ptr(at.Add(time.Hour)), 3: ptr(at.Add(3 * time.Hour)), 4: nil}
	for rows.Next() {
		var id int64
		var out *time.Time
		if err := rows.Scan(&id, &out); err != nil {
			t.Fatal(err)
		}
		if w := want[id]; (w == nil) != (out == nil) || w != nil && !w.Equal(*out) {
			t.Errorf("lead %d: opted_out_at = %v, want %v", id, out, w)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Down(ctx); err != nil {
		t.Fatalf("down: %v", err)
	}
}

// Migration 0020 builds the click facts, one per step and link, and the
// url facts of pages viewed anew from the counted events, and its down
// migration builds the facts as they were before.
func TestMigration0020_ClickFactsNameTheirLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, p := migratedTo(t, 19)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO leads (id, email, status, created_at, updated_at) VALUES (1, 'a@example.com', 'confirmed', $1, $1)`,
		`INSERT INTO events (lead_id, type, step_key, url, at, source, verdict) VALUES
		 (1, 'click', 'drip/01', 'https://acme.example/a', $1, 'click', 'human'),
		 (1, 'click', 'drip/01', 'https://acme.example/a', $1 + interval '1 hour', 'click', 'human'),
		 (1, 'click', 'drip/01', 'https://acme.example/b', $1, 'click', 'image_proxy'),
		 (1, 'click', 'drip/01', 'https://acme.example/c', $1, 'click', 'scanner'),
		 (1, 'open', 'drip/01', NULL, $1, 'pixel', 'human'),
		 (1, 'page_view', NULL, 'https://acme.example/pricing', $1, 'site', 'human')`,
		// The facts those events wrote: an open, a click, the addresses
		// clicked and viewed, the events.
		`INSERT INTO lead_facts (lead_id, kind, key, first_at, last_at, count) VALUES
		 (1, 'open', 'drip/01', $1, $1, 1),
		 (1, 'click', 'drip/01', $1, $1 + interval '1 hour', 3),
		 (1, 'url', 'https://acme.example/a', $1, $1 + interval '1 hour', 2),
		 (1, 'url', 'https://acme.example/b', $1, $1, 1),
		 (1, 'url', 'https://acme.example/pricing', $1, $1, 1),
		 (1, 'event', 'page_view', $1, $1, 1)`,
	} {
		if _, err := db.ExecContext(ctx, q, at); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	facts := func(query string) []string {
		t.Helper()
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	want := func(got, want []string) {
		t.Helper()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("facts:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	before := facts(`SELECT concat_ws(' ', kind, key, count, first_at = last_at) FROM lead_facts ORDER BY kind, key`)
	if _, err := p.UpTo(ctx, 20); err != nil {
		t.Fatal(err)
	}
	want(facts(`SELECT concat_ws(' ', kind, key, NULLIF(url, ''), count, first_at = last_at) FROM lead_facts ORDER BY kind, key, url`), []string{
		"click drip/01 https://acme.example/a 2 f",
		"click drip/01 https://acme.example/b 1 t",
		"event page_view 1 t",
		"open drip/01 1 t",
		"url https://acme.example/pricing 1 t",
	})
	if _, err := p.Down(ctx); err != nil {
		t.Fatalf("down: %v", err)
	}
	want(facts(`SELECT concat_ws(' ', kind, key, count, first_at = last_at) FROM lead_facts ORDER BY kind, key`), before)
}

// migratedTo returns a database of its own, migrated up to version, and
// the provider that migrates it further.
func migratedTo(t *testing.T, version int64) (*sql.DB, *goose.Provider) {
	t.Helper()
	db, err := sql.Open("postgres", pgtest.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return db, p
}

func ptr[T any](v T) *T { return &v }
