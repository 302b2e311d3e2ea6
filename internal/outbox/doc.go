// Package outbox relays mail from the database to SMTP: it claims due
// messages, hands their exact bytes to a Sender, and records the outcome:
// sent, retried later with backoff (4xx, SMTP unreachable) or failed for good
// (5xx, which bounces the lead). It neither composes mail nor decides who gets
// it; those write rows into the outbox in their own transactions.
//
// A producer may spare the claim: it reserves room in a running relay's
// window, writes its mails as already claimed (leased) by that relay, and
// hands them over once its transaction commits. If the process dies first,
// the lease runs out and any relay claims them like any other mail.
//
// At most InFlight messages per relay are claimed or reserved and not yet
// recorded, so a crash can hand a message to SMTP twice only within that
// window; such possible repeats are counted on the message row.
package outbox
