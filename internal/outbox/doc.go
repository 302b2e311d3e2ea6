// Package outbox relays queued mail from the database to SMTP: it claims due
// messages, hands their exact bytes to a Sender, and records the outcome:
// sent, retried later with backoff (4xx, SMTP unreachable) or failed for good
// (5xx, which bounces the lead). It neither composes mail nor decides who gets
// it; those write rows into the outbox in their own transactions.
//
// At most InFlight messages per relay are claimed and not yet recorded, so a
// crash can hand a message to SMTP twice only within that window; such
// repeats are counted on the message row.
package outbox
