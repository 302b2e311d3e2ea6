package main

import (
	"bytes"
	"context"
	"encoding/json"
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

// Points, caps, fit, decay and bands, through the API under the server's
// clock: the confirmation and a fit rule count at once, page views stop at
// their daily cap, an event lifts the lead from warm to hot, ten days of a
// ten-day half-life halve the engagement (not the fit), and a new day
// opens the cap again.
func TestScores_PointsCapsFitDecayAndBandsThroughTheAPI(t *testing.T) {
	t.Parallel()
	h := start(t, map[string]string{"NURTURE_TICK": "20ms", "NURTURE_CAMPAIGNS": writeCampaigns(t, map[string]string{
		"scoring.yaml": `mql: score >= 1000
points:
  confirmed: 5
  events:
    page_view: 4
    webinar_registered: 15
caps:
  page_view: 10
fit:
  - if: attr.company == "Acme GmbH"
    points: 20
decay:
  half_life: 10d
bands:
  warm: 15
  hot: 30
`,
		"forms/ebook.md": "---\ntitle: Free e-book\nsource: ebook-datensicherheit\nconsent: Yes, send me the e-book and related mail.\nconsent_version: ebook-form-1\n---\nThe e-book.\n",
	})})
	h.confirmAnna(1)
	type figures struct {
		Score, Fit, Engagement int
		Temperature            string
	}
	want := func(what string, w figures) {
		t.Helper()
		var got figures
		defer func() {
			if t.Failed() {
				t.Logf("%s: got %+v, want %+v", what, got, w)
			}
		}()
		waitFor(t, what, func() bool {
			res := h.do("GET", "/api/v1/leads/anna@example.com", "", nil, "Authorization", "Bearer "+adminToken)
			if res.status != 200 {
				t.Fatalf("GET lead: %d %s", res.status, res.body)
			}
			if err := json.Unmarshal([]byte(res.body), &got); err != nil {
				t.Fatal(err)
			}
			return got == w
		})
		_ = got
	}
	post := func(body string) {
		t.Helper()
		if res := h.do("POST", "/api/v1/events", "application/json", strings.NewReader(body), "Authorization", "Bearer "+adminToken); res.status != 201 {
			t.Fatalf("events %s: %d %s", body, res.status, res.body)
		}
	}
	want("the confirmation and the fit rule", figures{25, 20, 5, "cold"})
	view := `{"lead": "anna@example.com", "type": "page_view", "url": "https://acme.example/p"}`
	post("[" + strings.Repeat(view+",", 3) + view + "]")
	want("four page views, capped at 10", figures{35, 20, 15, "warm"})
	post(`{"lead": "anna@example.com", "type": "webinar_registered"}`)
	want("the webinar", figures{50, 20, 30, "hot"})
	h.clock.Advance(10 * 24 * time.Hour)
	if _, err := h.app.funnel.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	want("ten days of decay", figures{35, 20, 15, "warm"})
	post(view)
	want("a page view on a new day", figures{39, 20, 19, "warm"})
}
