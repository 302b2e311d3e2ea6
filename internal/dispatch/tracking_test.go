package dispatch_test

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/store"
)

const base = "https://nurture.test"

// guideStep writes the sequence "news" of one mail with a web link, a
// mailto: link and the privacy policy's address.
func (b *bundle) guideStep(target string) {
	b.t.Helper()
	b.write("news/sequence.md", "---\ntrigger: confirmed\n---\n")
	b.write("news/01-guide.md", step("The guide", "0", "",
		"Read [the guide]("+target+"), or [write to us](mailto:hello@acme.example)."))
	b.load()
}

// consent records that a lead agreed to tracking, as the confirmation of
// a signup that asked does.
func (b *bundle) consent(id int64) {
	b.t.Helper()
	if _, err := b.db.ExecContext(b.ctx, `UPDATE leads SET tracking = true WHERE id = $1`, id); err != nil {
		b.t.Fatal(err)
	}
}

// sentMail is a step mail as the outbox holds it.
type sentMail struct {
	ID      int64         `db:"id"`
	LinkSet sql.NullInt64 `db:"link_set_id"`
	Raw     []byte        `db:"raw"`
}

func (b *bundle) sentMail(leadID int64) sentMail {
	b.t.Helper()
	var m sentMail
	err := b.db.GetContext(b.ctx, &m, `SELECT m.id, m.link_set_id, COALESCE(r.raw, '') AS raw
		FROM messages m LEFT JOIN message_raw r ON r.message_id = m.id
		WHERE m.lead_id = $1 AND m.kind = 'step' ORDER BY m.id DESC LIMIT 1`, leadID)
	if err != nil {
		b.t.Fatal(err)
	}
	return m
}

// trackedAnna is Anna, a lead who consented to tracking, on the guide
// step; it returns her id.
func (b *bundle) trackedAnna() int64 {
	b.t.Helper()
	b.guideStep("https://acme.example/guide")
	id := b.lead("anna@example.com", "Anna", nil)
	b.consent(id)
	return id
}

// sentGuide has the dispatcher write Anna's tracked guide mail, and
// returns her id and the mail as written.
func (b *bundle) sentGuide() (int64, sentMail) {
	b.t.Helper()
	id := b.trackedAnna()
	if _, err := b.disp.Drain(b.ctx); err != nil {
		b.t.Fatal(err)
	}
	return id, b.sentMail(id)
}

// recomposeGuide composes lead id's guide mail m again, as the relay does
// after a crash.
func (b *bundle) recomposeGuide(id int64, m sentMail) ([]byte, error) {
	b.t.Helper()
	var mid string
	if err := b.db.GetContext(b.ctx, &mid, `SELECT message_id FROM messages WHERE id = $1`, m.ID); err != nil {
		b.t.Fatal(err)
	}
	return b.disp.Recompose(b.ctx, store.Claimed{ID: m.ID, Kind: "step", LeadID: &id, MessageID: mid, StepKey: "news/guide", CreatedAt: monday})
}

func (b *bundle) linkSet(id int64) []store.LinkTarget {
	b.t.Helper()
	var js string
	if err := b.db.GetContext(b.ctx, &js, `SELECT links::text FROM link_sets WHERE id = $1`, id); err != nil {
		b.t.Fatal(err)
	}
	ts, err := store.LinkSet{JSON: []byte(js)}.Targets()
	if err != nil {
		b.t.Fatal(err)
	}
	return ts
}

func (b *bundle) caughtBy(to string) devmail.Message {
	b.t.Helper()
	for _, m := range b.mail.Messages() {
		if len(m.To) == 1 && m.To[0] == to {
			return m
		}
	}
	b.t.Fatalf("no mail to %s caught", to)
	return devmail.Message{}
}

func TestTracking_TrackedLeadsMailHasPixelClickLinksAndHoneypot(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	anna := b.trackedAnna()
	b.run()

	sent := b.sentMail(anna)
	if !sent.LinkSet.Valid {
		t.Fatal("the tracked mail names no set of links")
	}
	got := b.caughtBy("anna@example.com")
	for _, want := range []string{
		`<img src="` + base + "/o/" + trackSigner.Open(sent.ID) + `"`,
		`<a href="` + base + "/c/" + trackSigner.Honeypot(sent.ID) + `" style="display:none`,
		`<a href="` + base + "/c/" + trackSigner.Click(sent.ID, 1) + `">the guide</a>`,
		`<a href="mailto:hello@acme.example">write to us</a>`,
		`href="` + b.links.Unsubscribe(anna) + `"`,
		`href="` + b.links.Tracking(anna) + `"`,
		`Stop tracking my opens and clicks</a>`,
	} {
		if !strings.Contains(got.HTML, want) {
			t.Errorf("HTML lacks %s\n%s", want, got.HTML)
		}
	}
	if strings.Contains(got.HTML, "acme.example/guide") || strings.Contains(got.Text, "acme.example/guide") {
		t.Errorf("the guide's address is still in the mail:\n%s\n%s", got.HTML, got.Text)
	}
	for _, want := range []string{base + "/c/" + trackSigner.Click(sent.ID, 1), b.links.Unsubscribe(anna), b.links.Tracking(anna)} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("text lacks %s\n%s", want, got.Text)
		}
	}
	if ls := b.linkSet(sent.LinkSet.Int64); len(ls) != 1 || ls[0] != (store.LinkTarget{URL: "https://acme.example/guide", Text: "the guide"}) {
		t.Errorf("link set = %+v", ls)
	}

	// The next tracked lead's mail has the same links: the set is stored once.
	ben := b.lead("ben@example.com", "Ben", nil)
	b.consent(ben)
	b.run()
	if s := b.sentMail(ben); s.LinkSet != sent.LinkSet || s.ID == sent.ID {
		t.Errorf("Ben's mail %d has link set %v, Anna's %d has %v: want one set", s.ID, s.LinkSet, sent.ID, sent.LinkSet)
	}
	var sets int
	if err := b.db.GetContext(b.ctx, &sets, `SELECT count(*) FROM link_sets`); err != nil || sets != 1 {
		t.Errorf("%d link sets (%v), want 1", sets, err)
	}

	// Edited later, the step's mail leads elsewhere; the mails sent before
	// still lead where they led.
	b.guideStep("https://acme.example/guide-v2")
	cleo := b.lead("cleo@example.com", "Cleo", nil)
	b.consent(cleo)
	b.run()
	c := b.sentMail(cleo)
	if c.LinkSet == sent.LinkSet {
		t.Fatal("the edited step's mail has the old set of links")
	}
	if ls := b.linkSet(c.LinkSet.Int64); len(ls) != 1 || ls[0].URL != "https://acme.example/guide-v2" {
		t.Errorf("edited link set = %+v", ls)
	}
	if ls := b.linkSet(sent.LinkSet.Int64); len(ls) != 1 || ls[0].URL != "https://acme.example/guide" {
		t.Errorf("the first set changed: %+v", ls)
	}
}

// wantUntracked fails unless the mail to lead id has no pixel, no
// rewritten link and no tracking footer, and names no set of links.
func (b *bundle) wantUntracked(id int64, to string) {
	b.t.Helper()
	got := b.caughtBy(to)
	for _, part := range []string{got.HTML, got.Text} {
		if strings.Contains(part, base+"/o/") || strings.Contains(part, base+"/c/") || strings.Contains(part, b.links.Tracking(id)) {
			b.t.Errorf("untracked mail has tracking:\n%s", part)
		}
		if !strings.Contains(part, "https://acme.example/guide") || !strings.Contains(part, b.links.Unsubscribe(id)) {
			b.t.Errorf("untracked mail lacks its links:\n%s", part)
		}
	}
	if s := b.sentMail(id); s.LinkSet.Valid {
		b.t.Errorf("untracked mail names link set %d", s.LinkSet.Int64)
	}
}

func TestTracking_UntrackedLeadsMailHasNoPixelAndNoRewrittenLinks(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.guideStep("https://acme.example/guide")
	id := b.lead("nina@example.com", "Nina", nil) // no consent
	b.run()
	b.wantUntracked(id, "nina@example.com")
}

func TestTracking_ModeAllTracksEveryLeadAndOffNone(t *testing.T) {
	t.Parallel()
	all := setupWith(t, monday, dispatch.Config{Tracking: dispatch.TrackingAll})
	all.guideStep("https://acme.example/guide")
	id := all.lead("nina@example.com", "Nina", nil)
	all.run()
	if s := all.sentMail(id); !s.LinkSet.Valid || !strings.Contains(all.caughtBy("nina@example.com").HTML, base+"/o/"+trackSigner.Open(s.ID)) {
		t.Errorf("NURTURE_TRACKING=all: the mail of a lead without consent is not tracked")
	}

	off := setupWith(t, monday, dispatch.Config{Tracking: dispatch.TrackingOff})
	off.guideStep("https://acme.example/guide")
	id = off.lead("olga@example.com", "Olga", nil)
	off.consent(id)
	off.run()
	off.wantUntracked(id, "olga@example.com")
}

// A tracked mail composed again, as after a crash, is byte for byte the
// mail first composed: the tokens name its id, which it keeps.
func TestTracking_RecomposeGivesTheSameBytes(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	id, first := b.sentGuide()
	if !first.LinkSet.Valid || len(first.Raw) == 0 {
		t.Fatalf("the mail is not tracked, or has no bytes: %+v", first)
	}
	again, err := b.recomposeGuide(id, first)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, first.Raw) {
		t.Fatalf("composed again:\n%s\nfirst:\n%s", again, first.Raw)
	}

	// Through the relay: the dispatcher died after writing the mail leased
	// without its bytes; after the lease the relay composes and sends it.
	_, err = b.db.ExecContext(b.ctx, `DELETE FROM message_raw WHERE message_id = $1;`, first.ID)
	if err == nil {
		_, err = b.db.ExecContext(b.ctx, `UPDATE messages SET status = 'sending', attempts = 1, locked_until = $2 WHERE id = $1`,
			first.ID, monday.Add(5*time.Minute))
	}
	if err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(5*time.Minute + time.Second)
	if n, err := b.relay.Drain(b.ctx); n != 1 || err != nil {
		t.Fatalf("after the lease: %d, %v", n, err)
	}
	caught := b.caughtBy("anna@example.com")
	if !bytes.Equal(bytes.ReplaceAll(caught.Raw, []byte("\r\n"), []byte("\n")), bytes.ReplaceAll(first.Raw, []byte("\r\n"), []byte("\n"))) {
		t.Fatalf("sent after the crash:\n%s\nfirst composed:\n%s", caught.Raw, first.Raw)
	}
	if s := b.sentMail(id); s.LinkSet != first.LinkSet {
		t.Errorf("link set %v after recomposing, was %v", s.LinkSet, first.LinkSet)
	}
}

// A mail composed again from a step edited since its first composing
// (which no one saw) leads where the new one does.
func TestTracking_RecomposedFromAnEditedStepNamesItsNewLinks(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	id, first := b.sentGuide()
	b.guideStep("https://acme.example/guide-v2")
	raw, err := b.recomposeGuide(id, first)
	if err != nil {
		t.Fatal(err)
	}
	// The bytes may well be the same, since only the link's target
	// changed, and the mail names it by index: the set must follow.
	if len(raw) == 0 {
		t.Fatal("nothing composed")
	}
	s := b.sentMail(id)
	if !s.LinkSet.Valid || s.LinkSet == first.LinkSet {
		t.Fatalf("link set %v, first %v: want a new one", s.LinkSet, first.LinkSet)
	}
	if ls := b.linkSet(s.LinkSet.Int64); len(ls) != 1 || ls[0].URL != "https://acme.example/guide-v2" {
		t.Errorf("link set = %+v", ls)
	}
}

// A tracked mail handed to a running relay as its batch commits, its bytes
// never stored, carries the tokens of the id it was written with.
func TestTracking_HandedOverMailNamesItsOwnID(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	id := b.trackedAnna()
	b.runRelay()
	if _, err := b.withSender().Drain(b.ctx); err != nil {
		t.Fatal(err)
	}
	wait, cancelWait := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancelWait()
	msgs, err := b.mail.WaitFor(wait, 1)
	if err != nil {
		t.Fatal(err)
	}
	sent := b.sentMail(id)
	if len(sent.Raw) != 0 || !sent.LinkSet.Valid {
		t.Fatalf("handed mail: %d bytes stored, link set %v", len(sent.Raw), sent.LinkSet)
	}
	if s := b.relay.Stats(); s.Handed != 1 {
		t.Fatalf("relay stats %+v: want the mail handed over", s)
	}
	for _, want := range []string{base + "/o/" + trackSigner.Open(sent.ID), base + "/c/" + trackSigner.Click(sent.ID, 1)} {
		if !strings.Contains(msgs[0].HTML, want) {
			t.Errorf("HTML lacks %s\n%s", want, msgs[0].HTML)
		}
	}
}
