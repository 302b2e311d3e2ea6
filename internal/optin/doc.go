// Package optin is the double opt-in: signup, the confirmation mail, confirm,
// unsubscribe, erasure and the purge of unconfirmed leads. Every change it
// makes is written with its consent-ledger entry and any mail it causes in one
// transaction. It does not speak HTTP: callers pass in the request's evidence
// and map its sentinel errors to responses.
package optin
