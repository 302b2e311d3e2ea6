package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The shipped campaigns' story: a Head of IT at a company of 250 confirms
// the e-book, opens it, downloads it, clicks the pricing link and requests
// a demo, and becomes an MQL routed to the DACH team. Explain tells why;
// recompute finds nothing to change.
func TestScores_EbookReaderBecomesAnMQLAndExplainTellsWhy(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_CAMPAIGNS": "../../campaigns"})
	s := signup("anna@example.com")
	s["attributes"] = map[string]any{"company": "Acme GmbH", "company_size": "250", "job_title": "Head of IT", "country": "DE"}
	id := h.confirmScored(t, s)
	// What the recorder writes for the mail's open and clicks, and the
	// CRM's demo request.
	at := h.clock.Now().Add(-time.Minute)
	for _, q := range []string{
		`INSERT INTO events (lead_id, type, source, message_id, step_key, verdict, at) VALUES ($1, 'open', 'pixel', 900, 'ebook-datensicherheit/your-copy', 'human', $2)`,
		`INSERT INTO events (lead_id, type, source, message_id, link, step_key, url, verdict, at) VALUES ($1, 'click', 'click', 900, 1, 'ebook-datensicherheit/your-copy', 'https://example.com/downloads/data-security-playbook.pdf', 'human', $2)`,
		`INSERT INTO events (lead_id, type, source, message_id, link, step_key, url, verdict, at) VALUES ($1, 'click', 'click', 903, 2, 'ebook-datensicherheit/ransomware-costs', 'https://example.com/pricing', 'human', $2)`,
		`INSERT INTO events (lead_id, type, source, verdict, at) VALUES ($1, 'demo_requested', 'api', 'human', $2)`,
	} {
		if _, err := h.db().Exec(q, id, at); err != nil {
			t.Fatal(err)
		}
	}
	h.app.funnel.Wake()
	waitFor(t, "the lead to become an MQL", func() bool { return h.lead("anna@example.com").Stage == "mql" })
	var owner string
	if err := h.db().Get(&owner, `SELECT owner FROM handoffs WHERE lead_id = $1 AND status = 'open'`, id); err != nil || owner != "anna@sales.example" {
		t.Fatalf("handoff owner %q, %v", owner, err)
	}

	settings := map[string]string{
		"NURTURE_DATABASE_URL": h.cfg.DatabaseURL, "NURTURE_CAMPAIGNS": "../../campaigns",
		"NURTURE_SMTP_URL": h.cfg.SMTPURL, "NURTURE_BASE_URL": h.cfg.BaseURL.String(), "NURTURE_SECRET": string(h.cfg.Secret),
		"NURTURE_FROM": h.cfg.From, "NURTURE_ADMIN_TOKEN": adminToken,
	}
	var out bytes.Buffer
	if err := scoresCommand(context.Background(), []string{"explain", "Anna@Example.com"}, env(settings), h.clock.Now, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"anna@example.com: score 111 = fit 35 + engagement 76 (hot), stage mql, as of 2026-11-02 09:30\n",
		"Fit 35, from who the lead is:\n",
		"+15 fit (fit rule 3, line 40: lower(attr.job_title) matches \"head|chief|cto|cio|ciso|director|leiter|leitung\")\n",
		"Engagement 76, from what the lead did (76 earned; every point halves in 30 days):\n",
		"+5 confirmed (points.confirmed, line 12), worth 5.0 now\n",
		"+1 open ebook-datensicherheit/your-copy (points.open, line 13), worth 1.0 now\n",
		"+1 open (by its click) ebook-datensicherheit/ransomware-costs (points.open, line 13), worth 1.0 now\n",
		"+2 click https://example.com/pricing ebook-datensicherheit/ransomware-costs (points.click, line 14), worth 2.0 now\n",
		"+15 click https://example.com/pricing ebook-datensicherheit/ransomware-costs (points.urls, line 17), worth 15.0 now\n",
		"+40 event demo_requested (points.events.demo_requested, line 25), worth 40.0 now\n",
		"lead → mql by scoring: mql (line 9): score >= 80 and fit >= 15 holds with score 111 (fit 35, engagement 76)\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := scoresCommand(context.Background(), []string{"recompute"}, env(settings), h.clock.Now, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "recomputed 1 lead under ../../campaigns/scoring.yaml: 0 ledgers changed, 0 leads became MQLs\n" {
		t.Errorf("recompute: %q", got)
	}
	if err := scoresCommand(context.Background(), []string{"explain", "nobody@example.com"}, env(settings), h.clock.Now, &out); err == nil || err.Error() != "there is no lead with the address nobody@example.com" {
		t.Errorf("explain of an unknown address: %v", err)
	}
}

// confirmScored signs the first lead up with s, confirms it and waits
// until the confirmation's points are in its ledger; it returns the lead.
func (h *harness) confirmScored(t *testing.T, s map[string]any) int64 {
	t.Helper()
	if res := h.subscribeJSON(s); res.status != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s", res.status, res.body)
	}
	link := confirmLink.FindString(h.waitMail(1).Text)
	if res := h.do("POST", strings.TrimPrefix(link, h.base), "application/x-www-form-urlencoded", nil); res.status != 200 {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	id := h.lead(s["email"].(string)).ID
	waitFor(t, "the confirmation to be scored", func() bool {
		var n int
		if err := h.db().Get(&n, `SELECT count(*) FROM score_entries WHERE lead_id = $1 AND rule = 'points.confirmed'`, id); err != nil {
			t.Fatal(err)
		}
		return n == 1
	})
	return id
}
