package store_test

import (
	"context"
	"database/sql"
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
	db, err := sql.Open("postgres", pgtest.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
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

func ptr[T any](v T) *T { return &v }
