// Package outbox relays mail from the database to SMTP: it claims due
// messages, hands their exact bytes to a Sender, and records the outcome:
// sent, retried later with backoff (4xx) or failed for good (5xx, which
// bounces the lead). It neither composes mail nor decides who gets it;
// those write rows into the outbox in their own transactions.
//
// A running relay is a node: it renews its life in the database every
// second or so, and everything it claims names it. Mail held by a node
// that stopped renewing (it died, or it restarted as a new node) is
// claimed by any node at once. A stopping relay finishes the SMTP
// transactions under way and gives the rest back to the queue in one
// write. While SMTP cannot be reached the relay pauses and probes.
//
// A producer may spare the claim: it reserves room in a running relay's
// window, writes its mails as already claimed by that relay's node, and
// hands them over once its transaction commits. If the process dies first,
// its node stops renewing and any relay claims them like any other mail.
//
// At most InFlight messages per relay are claimed or reserved and not yet
// recorded. A message is marked as handed to SMTP before its transaction
// and recorded after it, so a crash can hand a message to SMTP twice only
// if it was marked and not recorded, a few per worker; such possible
// repeats, and mail whose reply after the data never came, are counted on
// the message row when they are claimed again.
//
// The stages of a run (window, ready, marker, workers, renewer, prober)
// are small types with a Start/Stop/Started life cycle (see service).
package outbox
