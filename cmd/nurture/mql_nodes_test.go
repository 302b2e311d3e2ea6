package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fifty page views of one lead, posted at once half to each of two
// servers on one database, carry it across the mql line together: each
// node records its own and both run a scorer, and still the lead becomes
// an MQL once, with one handoff and one mail to its owner.
func TestMQL_FiftyConcurrentEventsOnTwoNodesHandOffOnce(t *testing.T) {
	t.Parallel()
	campaigns := writeCampaigns(t, map[string]string{
		"scoring.yaml": `mql: score >= 60
points:
  events:
    page_view: 5
handoff:
  reject_reasons: [no_budget]
  routes:
    - to: [anna@sales.example, ben@sales.example]
`,
		"forms/ebook.md": "---\ntitle: Free e-book\nsource: ebook\nconsent: Yes, send me the e-book and related mail.\nconsent_version: ebook-1\n---\nThe e-book.\n",
	})
	env := map[string]string{"NURTURE_CAMPAIGNS": campaigns, "NURTURE_TICK": "20ms"}
	a := start(t, env)
	peer := map[string]string{"NURTURE_DATABASE_URL": a.cfg.DatabaseURL, "NURTURE_SMTP_URL": "smtp://" + a.mail.SMTPAddr()}
	for k, v := range env {
		peer[k] = v
	}
	b := start(t, peer)
	a.confirmAnna(1)
	id := a.lead("anna@example.com").ID

	var wg sync.WaitGroup
	statuses := make([]int, 50)
	for i := range 50 {
		node := a
		if i%2 == 1 {
			node = b
		}
		wg.Go(func() {
			body := fmt.Sprintf(`{"lead": "anna@example.com", "type": "page_view", "url": "https://acme.example/p/%d"}`, i)
			req, _ := http.NewRequest("POST", node.base+"/api/v1/events", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+adminToken)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusCreated {
			t.Fatalf("event %d: status %d", i, s)
		}
	}
	// Every event scored, by whichever node took it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var unscored, score int
		if err := a.db().QueryRow(`SELECT (SELECT count(*) FROM events WHERE scored_at IS NULL), score FROM leads WHERE id = $1`, id).Scan(&unscored, &score); err != nil {
			t.Fatal(err)
		}
		if unscored == 0 && score == 250 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events unscored, score %d, after 10 s", unscored, score)
		}
		time.Sleep(20 * time.Millisecond)
	}
	owner := a.waitMail(2)
	for _, h := range []*harness{a, b} {
		if _, err := h.relay().Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var handoffs, mqls int
	if err := a.db().QueryRow(`SELECT (SELECT count(*) FROM handoffs WHERE lead_id = $1),
		(SELECT count(*) FROM stage_changes WHERE lead_id = $1 AND to_stage = 'mql')`, id).Scan(&handoffs, &mqls); err != nil {
		t.Fatal(err)
	}
	if handoffs != 1 || mqls != 1 {
		t.Errorf("%d handoffs and %d moves to mql, want one each", handoffs, mqls)
	}
	if n := len(a.mail.Messages()); n != 2 || strings.Join(owner.To, ",") != "anna@sales.example" {
		t.Errorf("%d mails (the confirmation and the owner's, to %v), want 2, the second to anna@sales.example", n, owner.To)
	}
}
