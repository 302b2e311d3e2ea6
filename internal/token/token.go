package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
)

// ErrInvalid means a token is malformed or its signature does not match.
var ErrInvalid = errors.New("token: invalid")

var enc = base64.RawURLEncoding

// Random returns a new unguessable token (256 bits) and the hash to store.
func Random() (tok string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	tok = enc.EncodeToString(b)
	return tok, Hash(tok)
}

// Hash is what the database stores of a random token.
func Hash(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}

// Signer signs IDs for one purpose each, so that a token made for one link
// (say, unsubscribe) is worthless for another.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer with the server secret.
func NewSigner(secret []byte) *Signer { return &Signer{key: secret} }

// macLen is the truncated HMAC-SHA256 length: 128 bits.
const macLen = 16

// Sign returns a URL-safe token carrying id, bound to purpose.
func (s *Signer) Sign(purpose string, id int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(id))
	return enc.EncodeToString(b[:]) + "." + enc.EncodeToString(s.mac(purpose, b[:]))
}

// Verify returns the id in a token made by Sign for the same purpose.
func (s *Signer) Verify(purpose, tok string) (int64, error) {
	payload, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return 0, ErrInvalid
	}
	b, err1 := enc.DecodeString(payload)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil || len(b) != 8 {
		return 0, ErrInvalid
	}
	if !hmac.Equal(mac, s.mac(purpose, b)) {
		return 0, ErrInvalid
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// SignText returns a URL-safe MAC of text, bound to purpose, for a value the
// server hands out and must later recognise as its own.
func (s *Signer) SignText(purpose, text string) string {
	return enc.EncodeToString(s.mac(purpose, []byte(text)))
}

// VerifyText reports whether sig is SignText's MAC of text for purpose.
func (s *Signer) VerifyText(purpose, text, sig string) bool {
	mac, err := enc.DecodeString(sig)
	return err == nil && hmac.Equal(mac, s.mac(purpose, []byte(text)))
}

func (s *Signer) mac(purpose string, payload []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write(payload)
	return h.Sum(nil)[:macLen]
}
