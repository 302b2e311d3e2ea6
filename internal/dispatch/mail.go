package dispatch

import (
	"errors"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// Links are the addresses a step mail points to; *link.Builder is one.
type Links interface {
	URL(path string) string
	Unsubscribe(leadID int64) string
	UnsubscribeMailto(leadID int64) string
	// Tracking is where a lead withdraws consent to tracking, from a
	// tracked mail's footer.
	Tracking(leadID int64) string
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
	// Signer signs the open pixel's and the links' tokens of tracked mail
	// (NURTURE_SECRET); without one no mail is tracked.
	Signer *tracking.Signer
}

// Data is what a step is rendered with for lead l.
func (m *StepMail) Data(l *lead.Lead) campaign.Data {
	return campaign.Data{Lead: l, BaseURL: m.Links.URL(""), UnsubscribeURL: m.Links.Unsubscribe(l.ID), Footer: m.Footer, PrivacyURL: m.Privacy}
}

// Mail renders step st for lead l and returns its mail, ready to compose,
// with what the rendering gave. The mail is not tracked.
func (m *StepMail) Mail(st *campaign.Step, l *lead.Lead, mid string, date time.Time) (mailer.Message, campaign.Rendered, error) {
	return m.mail(st, l, mid, date, false)
}

// mail renders step st for lead l; a tracked mail's footer links to where
// the lead withdraws consent to tracking (Track does the rest).
func (m *StepMail) mail(st *campaign.Step, l *lead.Lead, mid string, date time.Time, tracked bool) (mailer.Message, campaign.Rendered, error) {
	d := m.Data(l)
	if tracked {
		d.TrackingURL = m.Links.Tracking(l.ID)
	}
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

// Track rewrites a mail rendered tracked for the outbox's message id: the
// open pixel and the hidden honeypot link go into its HTML part, and every
// http(s) link of both parts leads through the click redirect. The
// server's own links (unsubscribe, confirmation, the tracking footer),
// the privacy policy and mailto: links stay as they are. It returns the
// links that the tokens' indexes name. The tokens are deterministic, so
// the same mail and id give the same bytes.
func (m *StepMail) Track(msg *mailer.Message, id int64) ([]store.LinkTarget, error) {
	if m.Signer == nil {
		return nil, errors.New("dispatch: a tracked mail needs a signer")
	}
	res, err := tracking.Rewrite(tracking.Mail{HTML: msg.HTML, Text: msg.Text}, tracking.Options{
		Base: m.Links.URL(""), Message: id, Signer: m.Signer,
		KeepFunc: func(u string) bool { return m.Privacy != "" && u == m.Privacy },
	})
	if err != nil {
		return nil, err
	}
	msg.HTML, msg.Text = res.HTML, res.Text
	links := make([]store.LinkTarget, len(res.Links))
	for i, l := range res.Links {
		links[i] = store.LinkTarget{URL: l.URL, Text: l.Text}
	}
	return links, nil
}

// Compose renders step st for lead l into the exact bytes of its mail,
// not tracked.
func (m *StepMail) Compose(st *campaign.Step, l *lead.Lead, mid string, date time.Time) ([]byte, error) {
	msg, _, err := m.Mail(st, l, mid, date)
	if err != nil {
		return nil, err
	}
	return m.Composer.Compose(msg)
}

// ComposeTracked is Compose of a tracked mail whose id in the outbox is
// id; it returns its links too.
func (m *StepMail) ComposeTracked(st *campaign.Step, l *lead.Lead, mid string, date time.Time, id int64) ([]byte, []store.LinkTarget, error) {
	msg, _, err := m.mail(st, l, mid, date, true)
	if err != nil {
		return nil, nil, err
	}
	links, err := m.Track(&msg, id)
	if err != nil {
		return nil, nil, err
	}
	raw, err := m.Composer.Compose(msg)
	return raw, links, err
}
