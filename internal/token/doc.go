// Package token makes and checks the secrets in Nurture's links: random
// confirmation tokens that the database keeps only as hashes, and
// HMAC-signed tokens that need no database row (unsubscribe). It holds no
// state besides the signing key.
package token
