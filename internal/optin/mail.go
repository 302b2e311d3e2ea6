package optin

import (
	"github.com/nurture/nurture/internal/store"

	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/token"
)

// signupRecord is what a signup (or a resend) of lead l writes besides the
// lead: the ledger entry and, when mailNow, the composed confirmation mail
// with its token's hash and d, what confirming that link applies to the
// lead. The mail greets the person by the name d gives.
func (s *Service) signupRecord(l *store.LeadRow, d lead.SignupData, kind lead.EventKind, ev lead.Evidence, mailNow bool) (store.Signup, error) {
	rec := store.Signup{Event: store.NewConsentEvent{
		LeadID: &l.ID, EmailHash: lead.EmailHash(l.Email), Kind: kind, Evidence: ev,
	}}
	if mailNow {
		tok, hash := token.Random()
		raw, mid, err := s.composeConfirmation(l, d.FirstName, tok, ev.At)
		if err != nil {
			return rec, err
		}
		rec.Mail = &store.NewMessage{Kind: "confirmation", LeadID: &l.ID, MessageID: mid, From: s.envFrom, To: l.Email, Raw: raw, RunAt: ev.At}
		rec.TokenHash, rec.Expires, rec.Data = hash, ev.At.Add(s.opts.ConfirmTTL), d
	}
	return rec, nil
}

type confirmData struct {
	Name, Sender, ConfirmURL, Expires, PrivacyURL string
	RetentionDays                                 int
}

func (s *Service) confirmData(name, confirmURL string, expires time.Time) confirmData {
	return confirmData{
		Name: name, Sender: s.sender, ConfirmURL: confirmURL,
		Expires:       expires.UTC().Format("2 January 2006, 15:04 UTC"),
		RetentionDays: int(s.opts.Retention.Hours() / 24),
		PrivacyURL:    s.opts.PrivacyURL,
	}
}

// bodies are the buffers one confirmation mail is rendered into; Compose
// copies what it needs, so they go back to bodyPool for the next mail
// instead of costing two allocations of a body's size each.
type bodies struct{ subject, text, html bytes.Buffer }

var bodyPool = sync.Pool{New: func() any { return new(bodies) }}

func (s *Service) composeConfirmation(l *store.LeadRow, firstName, tok string, now time.Time) ([]byte, string, error) {
	data := s.confirmData(lead.GreetingName(firstName), s.links.Confirm(tok), now.Add(s.opts.ConfirmTTL))
	b := bodyPool.Get().(*bodies)
	defer bodyPool.Put(b)
	b.subject.Reset()
	b.text.Reset()
	b.html.Reset()
	b.text.Grow(s.textSize)
	b.html.Grow(s.htmlSize)
	if err := s.text.ExecuteTemplate(&b.subject, "subject", data); err != nil {
		return nil, "", fmt.Errorf("optin: confirmation subject: %w", err)
	}
	if err := s.text.Execute(&b.text, data); err != nil {
		return nil, "", fmt.Errorf("optin: confirmation text: %w", err)
	}
	if err := s.html.ExecuteTemplate(&b.html, "base", data); err != nil {
		return nil, "", fmt.Errorf("optin: confirmation html: %w", err)
	}
	mid := mailer.NewMessageID(s.domain)
	raw, err := s.composer.Compose(mailer.Message{
		From: s.opts.From, To: l.Email, Subject: strings.TrimSpace(b.subject.String()),
		HTML: b.html.String(), Text: wrap(b.text.String(), textWidth), MessageID: mid, Date: now,
		ListUnsubscribeURL:    s.links.Unsubscribe(l.ID),
		ListUnsubscribeMailto: s.links.UnsubscribeMailto(l.ID),
	})
	if err != nil {
		return nil, "", fmt.Errorf("optin: compose confirmation: %w", err)
	}
	return raw, mid, nil
}

// sizeBodies renders both bodies once for a made-up person, so that a
// template that does not run is an error at start, and keeps their sizes,
// with room for a longer name and link, for the buffers of every mail.
func (s *Service) sizeBodies() error {
	data := s.confirmData("Anna", s.links.Confirm("x"), time.Date(2006, time.September, 30, 23, 59, 0, 0, time.UTC))
	var text, html bytes.Buffer
	if err := s.text.Execute(&text, data); err != nil {
		return fmt.Errorf("optin: confirmation text: %w", err)
	}
	if err := s.html.ExecuteTemplate(&html, "base", data); err != nil {
		return fmt.Errorf("optin: confirmation html: %w", err)
	}
	const slack = 512
	s.textSize, s.htmlSize = text.Len()+slack, html.Len()+slack
	return nil
}
