// Package optin owns the double opt-in: signup, the confirmation mail,
// confirm, unsubscribe, erasure and the purge of unconfirmed leads. Every
// change it makes is written with its consent-ledger entry and any mail it
// causes in one transaction, through the small Store it declares. It does
// not speak HTTP: callers pass in the request's evidence and map its
// sentinel errors to responses. It imports no other service: mail goes to
// a handover.Sender, which cmd lends the outbox relay.
package optin
