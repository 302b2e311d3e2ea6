package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

func TestSequences_ConfirmEnrolsAndStepsGoOutThroughTheServer(t *testing.T) {
	t.Parallel()
	dir := writeCampaigns(t, map[string]string{
		"ebook/sequence.md":       "---\nname: E-book\ntrigger: confirmed\nsources: [ebook-datensicherheit]\n---\n",
		"ebook/01-download.md":    "---\nsubject: Your e-book, {{ .Lead.FirstName }}\ndelay: 0\n---\nHere it is: https://acme.example/ebook.pdf\n",
		"ebook/02-chapter-two.md": "---\nsubject: Chapter two\ndelay: 2d\n---\nMore.\n",
		"other/sequence.md":       "---\ntrigger: confirmed\nsources: [webinar]\n---\n",
		"other/01-x.md":           "---\nsubject: Not for you\ndelay: 0\n---\nx\n",
		"demo/sequence.md":        "---\ntrigger:\n  event: demo_booked\n---\n",
		"demo/01-thanks.md":       "---\nsubject: Thanks for booking a demo\ndelay: 0\n---\nSee you.\n",
		"vip/sequence.md":         "---\ntrigger: manual\n---\n",
		"vip/01-hello.md":         "---\nsubject: A personal hello\ndelay: 0\n---\nHi.\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_TICK": "20ms"})

	if res := h.subscribeJSON(signup("anna@example.com")); res.status != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s", res.status, res.body)
	}
	path := strings.TrimPrefix(linkIn(t, h.waitMail(1)), h.base)
	if res := h.do("POST", path, "application/x-www-form-urlencoded", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	if m := h.waitMail(2); m.Subject != "Your e-book, Anna" || m.Header.Get("List-Unsubscribe") == "" {
		t.Fatalf("first step: %q %v", m.Subject, m.Header)
	}
	h.advance(2 * 24 * time.Hour)
	h.wake()
	if m := h.waitMail(3); m.Subject != "Chapter two" {
		t.Fatalf("second step: %q", m.Subject)
	}

	post := func(path string, v any) response {
		b, _ := json.Marshal(v)
		return h.do("POST", path, "application/json", bytes.NewReader(b), "Authorization", "Bearer "+adminToken)
	}
	if res := post("/api/v1/leads/anna@example.com/events", map[string]string{"type": "demo_booked"}); res.status != http.StatusCreated {
		t.Fatalf("event: %d %s", res.status, res.body)
	}
	if m := h.waitMail(4); m.Subject != "Thanks for booking a demo" {
		t.Fatalf("event step: %q", m.Subject)
	}
	if res := post("/api/v1/sequences/vip/enrolments", map[string]any{"lead": "anna@example.com"}); res.status != http.StatusCreated {
		t.Fatalf("manual enrolment: %d %s", res.status, res.body)
	}
	if m := h.waitMail(5); m.Subject != "A personal hello" {
		t.Fatalf("manual step: %q", m.Subject)
	}
	if res := post("/api/v1/sequences/vip/enrolments", map[string]any{"lead": "anna@example.com"}); res.status != http.StatusConflict {
		t.Fatalf("second manual enrolment: %d %s", res.status, res.body)
	}
	if res := post("/api/v1/sequences/nope/enrolments", map[string]any{"lead": "anna@example.com"}); res.status != http.StatusNotFound {
		t.Fatalf("unknown sequence: %d %s", res.status, res.body)
	}
	h.settle() // whatever was due has arrived
	for _, m := range h.mail.Messages() {
		if m.Subject == "Not for you" {
			t.Fatal("a sequence for another source enrolled the lead")
		}
	}
}

func TestSequences_StepMailCarriesThePostalAddress(t *testing.T) {
	t.Parallel()
	const address = "Acme GmbH · Hafenstraße 1 · 20457 Hamburg · Germany"
	dir := writeCampaigns(t, map[string]string{
		"ebook/sequence.md":    "---\ntrigger: confirmed\n---\n",
		"ebook/01-download.md": "---\nsubject: Your e-book\ndelay: 0\n---\nHere it is: https://acme.example/ebook.pdf\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_POSTAL_ADDRESS": address})
	h.confirmAnna(1)
	m := h.waitMail(2)
	if !strings.Contains(m.HTML, address) || !strings.Contains(m.Text, address) {
		t.Fatalf("the step mail lacks the postal address:\n%s\n%s", m.Text, m.HTML)
	}
}

func TestServe_WarnsAtStartWithoutAPostalAddress(t *testing.T) {
	t.Parallel()
	dir := writeCampaigns(t, map[string]string{
		"ebook/sequence.md":    "---\ntrigger: confirmed\n---\n",
		"ebook/01-download.md": "---\nsubject: Your e-book\ndelay: 0\n---\nHere it is.\n",
	})
	for _, tt := range []struct {
		name, campaigns, address string
		warn                     bool
	}{
		{"sequences without an address", dir, "", true},
		{"sequences with an address", dir, "Acme GmbH · Hafenstraße 1 · Hamburg", false},
		{"no sequences", filepath.Join(t.TempDir(), "none"), "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &logLines{}
			cfg := &config.Config{Campaigns: tt.campaigns, PostalAddress: tt.address, From: "Acme <news@acme.example>", DefaultTimezone: time.UTC}
			if _, err := loadLibrary(cfg, slog.New(logs)); err != nil {
				t.Fatal(err)
			}
			warned := slices.ContainsFunc(logs.all(), func(l string) bool { return strings.HasPrefix(l, "WARN NURTURE_POSTAL_ADDRESS is not set") })
			if warned != tt.warn {
				t.Errorf("warned = %v, want %v; log: %q", warned, tt.warn, logs.all())
			}
		})
	}
}

// An enrolment written in the moment its lead unsubscribes commits after
// the unsubscribe, which stops only the enrolments it can see: the
// dispatcher's own check must keep the mail from going out.
func TestUnsubscribe_RacingAnEnrolment_TheDispatcherSendsNothing(t *testing.T) {
	t.Parallel()
	dir := writeCampaigns(t, map[string]string{
		"mql/sequence.md": "---\ntrigger:\n  stage: mql\n---\n",
		"mql/01-call.md":  "---\nsubject: Shall we talk?\ndelay: 0\n---\nBook a call.\n",
	})
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": dir, "NURTURE_TICK": "20ms"})
	h.confirmAnna(1)
	confirmation := h.waitMail(1)
	unsub := regexp.MustCompile(`<(http[^>]+)>`).FindStringSubmatch(confirmation.Header.Get("List-Unsubscribe"))
	if unsub == nil {
		t.Fatalf("List-Unsubscribe = %q", confirmation.Header.Get("List-Unsubscribe"))
	}
	ctx := context.Background()
	id := h.lead("anna@example.com").ID
	err := h.store().WithTx(ctx, func(tx *store.Tx) error {
		if err := h.onStage(ctx, tx, id, lead.StageMQL); err != nil {
			return err
		}
		// The one-click unsubscribe commits while the enrolment is not.
		res := h.do("POST", strings.TrimPrefix(unsub[1], h.base), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if res.status != 200 {
			t.Errorf("one-click unsubscribe: %d %s", res.status, res.body)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if l := h.lead("anna@example.com"); l.Status != "unsubscribed" {
		t.Fatalf("the lead is %s", l.Status)
	}
	h.wake()
	deadline := time.Now().Add(10 * time.Second)
	for {
		es, err := h.store().EnrolmentsOf(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 1 && es[0].State != lead.EnrolmentActive {
			if es[0].State != lead.EnrolmentStopped || es[0].EndedReason != "lead not confirmed" {
				t.Fatalf("enrolment: %+v", es[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the enrolment is still %+v", es)
		}
		h.wake()
		time.Sleep(10 * time.Millisecond)
	}
	h.settle() // whatever was due has arrived
	for _, m := range h.mail.Messages() {
		if m.Subject == "Shall we talk?" {
			t.Fatal("the unsubscribed lead got the step")
		}
	}
}
