package optin

import (
	"github.com/nurture/nurture/internal/store"

	"bytes"
	"cmp"
	"fmt"
	"net/mail"
	"strings"
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

func (s *Service) composeConfirmation(l *store.LeadRow, firstName, tok string, now time.Time) ([]byte, string, error) {
	from, _ := mail.ParseAddress(s.opts.From)
	data := confirmData{
		Name:          lead.GreetingName(firstName),
		Sender:        cmp.Or(from.Name, from.Address),
		ConfirmURL:    s.links.Confirm(tok),
		Expires:       now.Add(s.opts.ConfirmTTL).UTC().Format("2 January 2006, 15:04 UTC"),
		RetentionDays: int(s.opts.Retention.Hours() / 24),
		PrivacyURL:    s.opts.PrivacyURL,
	}
	var subject, text, html bytes.Buffer
	if err := s.text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return nil, "", fmt.Errorf("optin: confirmation subject: %w", err)
	}
	if err := s.text.Execute(&text, data); err != nil {
		return nil, "", fmt.Errorf("optin: confirmation text: %w", err)
	}
	if err := s.html.Execute(&html, data); err != nil {
		return nil, "", fmt.Errorf("optin: confirmation html: %w", err)
	}
	mid := mailer.NewMessageID(s.domain)
	raw, err := s.composer.Compose(mailer.Message{
		From: s.opts.From, To: l.Email, Subject: strings.TrimSpace(subject.String()),
		HTML: html.String(), Text: wrap(text.String(), textWidth), MessageID: mid, Date: now,
		ListUnsubscribeURL:    s.links.Unsubscribe(l.ID),
		ListUnsubscribeMailto: s.links.UnsubscribeMailto(l.ID),
	})
	if err != nil {
		return nil, "", fmt.Errorf("optin: compose confirmation: %w", err)
	}
	return raw, mid, nil
}
