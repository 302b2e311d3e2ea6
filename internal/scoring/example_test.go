package scoring

import (
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

// TestExample_EbookReaderWhoBooksADemoBecomesAnMQL plays the story the
// shipped scoring.yaml is written for, signal by signal, under a fixed clock.
func TestExample_EbookReaderWhoBooksADemoBecomesAnMQL(t *testing.T) {
	r := shipped(t)
	signup := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	buyer := &lead.Lead{Stage: lead.StageLead, Source: "ebook-datensicherheit", CreatedAt: signup,
		Attributes: lead.Attributes{"company_size": "250", "job_title": "Head of IT", "country": "DE"}}
	small := &lead.Lead{Stage: lead.StageLead, Source: "ebook-datensicherheit", CreatedAt: signup,
		Attributes: lead.Attributes{"company_size": "12", "job_title": "Office manager", "country": "DE"}}

	story := []Signal{
		{Kind: SignalConfirmed, At: signup.Add(2 * time.Minute)},
		{Kind: SignalOpen, Ref: "ebook-datensicherheit/your-copy", At: signup.Add(10 * time.Minute)},
		{Kind: SignalClick, URL: "https://example.com/downloads/data-security-playbook.pdf", At: signup.Add(11 * time.Minute)},
		{Kind: SignalEvent, Type: "page_view", URL: "https://example.com/pricing", At: signup.Add(3 * 24 * time.Hour)},
	}
	demo := Signal{Kind: SignalEvent, Type: "demo_booked", At: signup.Add(10 * 24 * time.Hour)}

	play := func(l *lead.Lead, signals []Signal, at time.Time) (Score, bool, Team) {
		t.Helper()
		var ledger []Entry
		today := map[time.Time]Today{}
		for _, s := range signals {
			d := Day(s.At)
			if today[d] == nil {
				today[d] = Today{}
			}
			a := r.SignalPoints(s, today[d])
			today[d].Add(a)
			ledger = append(ledger, Entry{At: s.At, Points: a.Points})
		}
		f := Facts{Lead: l, Now: at}
		fit, err := r.FitPoints(f)
		if err != nil {
			t.Fatal(err)
		}
		s := Score{Fit: fit.Points, Engagement: r.Engagement(ledger, at).Points}
		mql, _, err := r.IsMQL(f, s)
		if err != nil {
			t.Fatal(err)
		}
		team, err := r.Team(f, s)
		if err != nil {
			t.Fatal(err)
		}
		return s, mql, team
	}

	s, mql, _ := play(buyer, story, demo.At)
	if mql {
		t.Fatalf("an MQL before booking a demo: %+v", s)
	}
	s, mql, team := play(buyer, append(story, demo), demo.At)
	if !mql || s.Fit != 35 || r.Temperature(s.Engagement) != Hot {
		t.Fatalf("after the demo: score %+v, mql %v, %s", s, mql, r.Temperature(s.Engagement))
	}
	if team.Index != 0 || team.Owner(0) != "anna@sales.example" || team.Owner(1) != "ben@sales.example" {
		t.Errorf("team = %+v", team)
	}
	if s, mql, _ := play(small, append(story, demo), demo.At); mql || s.Fit != 0 {
		t.Errorf("a lead that does not fit became an MQL: %+v", s)
	}

	reader := &lead.Lead{Stage: lead.StageLead, Source: "newsletter", CreatedAt: signup, Attributes: buyer.Attributes}
	var news []Signal
	news = append(news, Signal{Kind: SignalConfirmed, At: signup})
	for i, url := range []string{"https://example.com/blog/beyond-3-2-1", "https://example.com/blog/nine-day-outage", "https://example.com/guides/restore-drill"} {
		at := signup.Add(time.Duration(i+1) * 48 * time.Hour)
		news = append(news, Signal{Kind: SignalOpen, At: at}, Signal{Kind: SignalClick, URL: url, At: at.Add(time.Minute)})
	}
	if s, mql, _ := play(reader, news, signup.Add(8*24*time.Hour)); mql || r.Temperature(s.Engagement) != Cold {
		t.Errorf("a newsletter reader became an MQL or warm: %+v", s)
	}
}
