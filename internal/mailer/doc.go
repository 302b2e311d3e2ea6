// Package mailer composes mail and hands it to SMTP with go-mail.
//
// It owns the exact bytes of a message (Compose: multipart text and HTML,
// List-Unsubscribe one-click headers, Message-ID, Date, DKIM; the MIME is
// written with the standard library, the signature by go-mail), the parsing
// of NURTURE_SMTP_URL, and a Pool of reused SMTP connections with a global
// rate limit that sends those bytes unchanged, so what Nurture records is
// what went out. It sorts SMTP failures into temporary and permanent ones
// (SMTPError, ErrUnavailable, Permanent).
//
// It must not retry, queue, or touch the database: the outbox owns retries
// and backoff, and decides what a permanent failure means for a lead.
package mailer
