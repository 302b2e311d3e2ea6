// Package token makes and checks the secrets in Nurture's links: random
// confirmation tokens that the database keeps only as hashes, and
// HMAC-signed tokens that need no database row (unsubscribe), and MACs of
// values the server hands out to have them back unchanged (the redirect a
// re-shown signup form carries). It holds no state besides the signing key.
package token
