// Package link owns the public URLs that go into mail: the confirmation
// link, the signed one-click unsubscribe link and its List-Unsubscribe
// mailto: alternative, built from the base URL and the token signer. It is
// pure: no database, no HTTP serving.
package link
