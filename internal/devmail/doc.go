// Package devmail is the mail catcher that ships with Nurture (`nurture
// devmail`): an SMTP sink built on MailHog's protocol state machine, data
// types and in-memory storage, with a small web UI and a MailHog-compatible
// JSON API so existing MailHog scripts keep working.
//
// It owns the SMTP connection loop, the in-memory message store, failure
// injection for tests (chosen SMTP replies per recipient, taking SMTP down
// and up again) and the HTTP pages. Tests read caught mail through the Go
// API (Messages, WaitFor) without sleeping.
//
// It must not relay or deliver mail anywhere, touch the disk per message, or
// know anything about Nurture's leads, campaigns or database: it only
// catches what arrives on its SMTP port.
package devmail
