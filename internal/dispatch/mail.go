package dispatch

import (
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/mailer"
)

// Links are the addresses a step mail points to; *link.Builder is one.
type Links interface {
	URL(path string) string
	Unsubscribe(leadID int64) string
	UnsubscribeMailto(leadID int64) string
}

// StepMail makes the mail of a step for a lead. The dispatcher sends what
// it makes, and `nurture campaigns preview` and send-test show and send
// the same, so a preview is what goes out.
type StepMail struct {
	From     string // From header, e.g. "Acme <news@acme.example>"
	Footer   string // the sender's postal address for the layouts
	Privacy  string // the privacy policy's address for the layouts, or ""
	Links    Links
	Composer Composer
}

// Data is what a step is rendered with for lead l.
func (m *StepMail) Data(l *lead.Lead) campaign.Data {
	return campaign.Data{Lead: l, BaseURL: m.Links.URL(""), UnsubscribeURL: m.Links.Unsubscribe(l.ID), Footer: m.Footer, PrivacyURL: m.Privacy}
}

// Mail renders step st for lead l and returns its mail, ready to compose,
// with what the rendering gave.
func (m *StepMail) Mail(st *campaign.Step, l *lead.Lead, mid string, date time.Time) (mailer.Message, campaign.Rendered, error) {
	d := m.Data(l)
	r, err := campaign.Render(st, d)
	if err != nil {
		return mailer.Message{}, r, err
	}
	return mailer.Message{
		From: m.From, To: l.Email, Subject: r.Subject,
		HTML: r.HTML, Text: r.Text, MessageID: mid, Date: date,
		ListUnsubscribeURL: d.UnsubscribeURL, ListUnsubscribeMailto: m.Links.UnsubscribeMailto(l.ID),
		Headers: map[string]string{"X-Nurture-Step": st.Key()},
	}, r, nil
}

// Compose renders step st for lead l into the exact bytes of its mail.
func (m *StepMail) Compose(st *campaign.Step, l *lead.Lead, mid string, date time.Time) ([]byte, error) {
	msg, _, err := m.Mail(st, l, mid, date)
	if err != nil {
		return nil, err
	}
	return m.Composer.Compose(msg)
}
