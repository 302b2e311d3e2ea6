//go:build faults

package faults

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
)

// world is one test's database, mail catcher and campaigns folder.
type world struct {
	t         *testing.T
	db        *sqlx.DB
	dbURL     string
	mail      *devmail.Server
	campaigns string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, mail: newCatcher(t), campaigns: campaignsDir(t)}
	w.dbURL = pgtest.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, w.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.db = db
	return w
}

// env is a node's settings for this world, sending to smtpAddr.
func (w *world) env(smtpAddr string) map[string]string {
	return nodeEnv(w.dbURL, smtpAddr, w.campaigns)
}

func newCatcher(t *testing.T) *devmail.Server {
	t.Helper()
	m := devmail.New(devmail.Config{SMTPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", MaxMessages: 100000})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// campaignsDir holds one sequence, faults, of one mail sent at once.
// Nothing enrols in it by itself: the tests seed its enrolments. Its one
// signup form, the hosted /subscribe, keeps the consent the tests' API
// signups give.
func campaignsDir(t *testing.T) string {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "forms"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "forms", "signup.md"), []byte(`---
title: Sign up
consent: Yes, send me mail.
consent_version: v1
---
`), 0o644))
	seq := filepath.Join(dir, "faults")
	must(t, os.MkdirAll(seq, 0o755))
	must(t, os.WriteFile(filepath.Join(seq, "sequence.md"), []byte(`---
name: Fault suite
trigger: confirmed
sources: [faults-only]
---
One mail for each seeded lead.
`), 0o644))
	must(t, os.WriteFile(filepath.Join(seq, "01-hello.md"), []byte(`---
subject: Hello from the fault suite
delay: 0
---
Hi {{ or .Lead.FirstName "there" }}, this is the fault suite's mail.
`), 0o644))
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seed adds n confirmed leads enrolled in the faults sequence, the i-th
// due at start + (i-1)×spread/n, addressed lead<i>@example.com.
func (w *world) seed(n int, start time.Time, spread time.Duration) {
	w.t.Helper()
	w.db.MustExec(`
		WITH l AS (
			INSERT INTO leads (email, first_name, status, source, created_at, updated_at, confirmed_at)
			SELECT 'lead' || i || '@example.com', 'Lead', 'confirmed', 'faults', $1, $1, $1
			FROM generate_series(1, $2::int) i
			RETURNING id, email
		)
		INSERT INTO enrolments (lead_id, sequence, state, due_at, enrolled_at)
		SELECT id, 'faults', 'active',
			$1::timestamptz + (substring(email FROM '[0-9]+')::int - 1) * ($3::float8 / $2::int) * interval '1 microsecond', $1
		FROM l`, start, n, float64(spread.Microseconds()))
}

// outbox counts the messages by status, and their repeats.
type outbox struct {
	Queued, Sending, Started, Sent, Failed, Repeats int
}

func (w *world) outbox() outbox {
	w.t.Helper()
	var o outbox
	err := w.db.QueryRow(`SELECT
		count(*) FILTER (WHERE status = 'queued'),
		count(*) FILTER (WHERE status = 'sending'),
		count(*) FILTER (WHERE status = 'sending' AND smtp_started_at IS NOT NULL),
		count(*) FILTER (WHERE status = 'sent'),
		count(*) FILTER (WHERE status = 'failed'),
		coalesce(sum(repeats), 0)
		FROM messages`).Scan(&o.Queued, &o.Sending, &o.Started, &o.Sent, &o.Failed, &o.Repeats)
	if err != nil {
		w.t.Fatalf("outbox: %v", err)
	}
	return o
}

// repeats returns each message's repeats by its Message-ID.
func (w *world) repeats() map[string]int {
	w.t.Helper()
	rows, err := w.db.Query(`SELECT message_id, repeats FROM messages`)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		must(w.t, rows.Scan(&id, &n))
		out[id] = n
	}
	must(w.t, rows.Err())
	return out
}

// caught is what catchers received: copies per Message-ID, the distinct
// recipients, and the time the last new message came.
type caught struct {
	copies     map[string]int
	recipients map[string]bool
	first      map[string]time.Time // when each recipient's first mail came
}

func catch(ms ...*devmail.Server) caught {
	c := caught{copies: map[string]int{}, recipients: map[string]bool{}, first: map[string]time.Time{}}
	for _, m := range ms {
		for _, msg := range m.Messages() {
			c.copies[messageID(msg)]++
			for _, to := range msg.To {
				c.recipients[to] = true
				if f, ok := c.first[to]; !ok || msg.Created.Before(f) {
					c.first[to] = msg.Created
				}
			}
		}
	}
	return c
}

func messageID(m devmail.Message) string {
	return strings.TrimSpace(m.Header.Get("Message-Id")) // stored as sent, <…@…>
}

// duplicates checks that every copy past the first of a message is counted
// in its repeats, and returns how many extra copies arrived.
func (w *world) duplicates(c caught) int {
	w.t.Helper()
	reps := w.repeats()
	extra := 0
	for id, n := range c.copies {
		if n <= 1 {
			continue
		}
		extra += n - 1
		if reps[id] < n-1 {
			w.t.Errorf("message %s arrived %d times, but its repeats is %d: an uncounted duplicate", id, n, reps[id])
		}
	}
	return extra
}

// allSent waits up to limit for n distinct recipients at the catchers and
// an outbox with everything sent; it reports whether that happened.
func (w *world) allSent(n int, limit time.Duration, ms ...*devmail.Server) bool {
	total := func() int {
		t := 0
		for _, m := range ms {
			t += int(m.Stats().Received)
		}
		return t
	}
	return eventually(limit, func() bool {
		if total() < n {
			return false
		}
		if len(catch(ms...).recipients) < n {
			return false
		}
		o := w.outbox()
		return o.Queued == 0 && o.Sending == 0
	})
}
