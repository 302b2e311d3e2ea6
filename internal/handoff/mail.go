package handoff

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
)

// ownerMail is what the owner's mail of one handoff says.
type ownerMail struct {
	Name, Email                   string
	Profile                       []field
	Stage, Temperature            string
	Score, Fit, Engagement        int
	Owner                         string
	FitReasons, EngagementReasons []string
	Activity                      []line
	ConsentSummary                string
	Consent                       []line
	Accept, Reject, Qualify       string // the action links
	Expires                       string
	RejectReasons                 []string
	HandoffID                     int64
	Created                       string
}

func (s *Service) ownerMailData(l *lead.Lead, h store.Handoff, st *store.Story, now time.Time) ownerMail {
	exp := now.Add(s.opts.LinkTTL)
	var set *campaign.Set
	if s.opts.Campaigns != nil {
		set = s.opts.Campaigns()
	}
	var forms campaign.Forms
	if set != nil {
		forms = set.Forms
	}
	f := formOf(forms, l.Source)
	m := ownerMail{
		Name: strings.TrimSpace(l.FirstName + " " + l.LastName), Email: l.Email, Profile: profile(l, f),
		Stage: string(l.Stage), Temperature: st.Figures.Temperature,
		Score: h.Score, Fit: h.Fit, Engagement: h.Engagement, Owner: h.Owner,
		Activity: activity(st.Activity, set),
		Accept:   s.linkURL(Accept, h.ID, exp), Reject: s.linkURL(Reject, h.ID, exp), Qualify: s.linkURL(Qualify, h.ID, exp),
		Expires: date(exp), HandoffID: h.ID, Created: date(h.CreatedAt),
	}
	m.FitReasons, m.EngagementReasons = reasons(st.Reasons)
	m.ConsentSummary, m.Consent = consent(l, forms, st.Consent)
	if hr := s.handoffRules(); hr != nil {
		m.RejectReasons = hr.RejectReasons
	}
	return m
}

// composeOwnerMail writes the mail that hands a lead to its owner.
func (s *Service) composeOwnerMail(l *lead.Lead, h store.Handoff, st *store.Story, now time.Time) ([]byte, string, error) {
	return s.compose(h.Owner, "handoff", s.ownerMailData(l, h, st, now), now)
}

// compose renders the named mail (handoff or digest) to one owner.
func (s *Service) compose(to, name string, data any, now time.Time) ([]byte, string, error) {
	var subject, text, html bytes.Buffer
	if err := s.text.ExecuteTemplate(&subject, name+"-subject", data); err != nil {
		return nil, "", fmt.Errorf("handoff: %s subject: %w", name, err)
	}
	if err := s.text.ExecuteTemplate(&text, name+".txt", data); err != nil {
		return nil, "", fmt.Errorf("handoff: %s text: %w", name, err)
	}
	if err := s.html[name].ExecuteTemplate(&html, "base", data); err != nil {
		return nil, "", fmt.Errorf("handoff: %s html: %w", name, err)
	}
	mid := mailer.NewMessageID(s.domain)
	raw, err := s.comp.Compose(mailer.Message{
		From: s.opts.From, To: to, Subject: strings.Join(strings.Fields(subject.String()), " "),
		HTML: html.String(), Text: text.String(), MessageID: mid, Date: now,
		Headers: map[string]string{"X-Nurture-Mail": name},
	})
	if err != nil {
		return nil, "", fmt.Errorf("handoff: compose %s: %w", name, err)
	}
	return raw, mid, nil
}
