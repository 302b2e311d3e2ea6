package tracking

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"
)

// ErrInvalidToken means a token is malformed, was signed with another
// secret, or was changed after signing.
var ErrInvalidToken = errors.New("tracking: invalid token")

// Kind tells what a token stands for.
type Kind byte

const (
	KindOpen     Kind = 'o' // the open pixel of a mail
	KindClick    Kind = 'c' // one link of a mail
	KindHoneypot Kind = 'h' // the hidden link no person can see
	KindSite     Kind = 's' // a lead on the marketer's site (the nt parameter); Message is the lead
)

func (k Kind) String() string {
	switch k {
	case KindOpen:
		return "open"
	case KindClick:
		return "click"
	case KindHoneypot:
		return "honeypot"
	case KindSite:
		return "site"
	}
	return fmt.Sprintf("Kind(%d)", byte(k))
}

// Ref is what a token carries: the message it was made for and, for a
// click, the index of the link in that message (see Link.Index).
type Ref struct {
	Kind    Kind
	Message int64
	Link    int // 0 for an open or the honeypot
}

// Signer makes and checks tracking tokens with the server secret.
type Signer struct {
	key  []byte
	macs sync.Pool // of *macState: keyed HMAC-SHA256 hashes, reset before each use
}

// NewSigner returns a Signer with the server secret.
func NewSigner(secret []byte) *Signer {
	s := &Signer{key: append([]byte(nil), secret...)}
	s.macs.New = func() any { return &macState{h: hmac.New(sha256.New, s.key)} }
	return s
}

// macLen is the truncated HMAC-SHA256: 96 bits is far beyond what an
// attacker can guess online against an endpoint, and keeps links short.
const macLen = 12

// domain keeps these MACs apart from every other use of the same secret.
const domain = "nurture/tracking/v1\x00"

var enc = base64.RawURLEncoding

// strict is enc refusing non-zero padding bits, made once: Strict returns
// a copy on the heap.
var strict = enc.Strict()

// domainBytes is domain as the hash writes it, converted once.
var domainBytes = []byte(domain)

// Open returns the token of the open pixel of a message.
func (s *Signer) Open(message int64) string {
	return s.sign(Ref{Kind: KindOpen, Message: message})
}

// Click returns the token of link index of a message.
func (s *Signer) Click(message int64, link int) string {
	return s.sign(Ref{Kind: KindClick, Message: message, Link: link})
}

// Honeypot returns the token of the hidden link of a message.
func (s *Signer) Honeypot(message int64) string {
	return s.sign(Ref{Kind: KindHoneypot, Message: message})
}

// Site returns the signed lead reference that a click to the marketer's
// own site carries (?nt=…), and that /t.js reports page views with.
func (s *Signer) Site(lead int64) string {
	return s.sign(Ref{Kind: KindSite, Message: lead})
}

// sign lays out kind, message and link as bytes, then the MAC over them,
// all in base64url. The same Ref always gives the same token.
func (s *Signer) sign(r Ref) string {
	b := appendRef(make([]byte, 0, 1+2*binary.MaxVarintLen64+macLen), r)
	return enc.EncodeToString(s.mac(b, b))
}

// appendRef appends r's kind, message and link to b.
func appendRef(b []byte, r Ref) []byte {
	b = append(b, byte(r.Kind))
	b = binary.AppendUvarint(b, uint64(r.Message))
	return binary.AppendUvarint(b, uint64(r.Link))
}

// Parse verifies a token and returns what it carries. Any change to a token
// makes it ErrInvalidToken.
func (s *Signer) Parse(tok string) (Ref, error) {
	if len(tok) > enc.EncodedLen(1+2*binary.MaxVarintLen64+macLen) {
		return Ref{}, ErrInvalidToken
	}
	var buf [1 + 2*binary.MaxVarintLen64 + macLen]byte
	n, err := strict.Decode(buf[:], []byte(tok))
	if err != nil || n < 1+2+macLen {
		return Ref{}, ErrInvalidToken
	}
	b := buf[:n]
	payload, mac := b[:len(b)-macLen], b[len(b)-macLen:]
	var sum [macLen]byte
	if !hmac.Equal(mac, s.mac(sum[:0], payload)) {
		return Ref{}, ErrInvalidToken
	}
	r := Ref{Kind: Kind(payload[0])}
	rest := payload[1:]
	msg, n := binary.Uvarint(rest)
	if n <= 0 || msg > 1<<63-1 {
		return Ref{}, ErrInvalidToken
	}
	rest = rest[n:]
	link, n := binary.Uvarint(rest)
	if n <= 0 || n != len(rest) || link > 1<<31-1 {
		return Ref{}, ErrInvalidToken
	}
	r.Message, r.Link = int64(msg), int(link)
	switch {
	case r.Kind != KindOpen && r.Kind != KindClick && r.Kind != KindHoneypot && r.Kind != KindSite:
		return Ref{}, ErrInvalidToken
	case r.Kind != KindClick && r.Link != 0:
		return Ref{}, ErrInvalidToken
	}
	// Only the canonical encoding is accepted, so a token has one spelling:
	// the strict decoding took no stray bits, nothing but newlines (which
	// it skips) could make the token longer than its bytes' encoding, and
	// the varints must be the shortest.
	var canon [1 + 2*binary.MaxVarintLen64]byte
	if len(tok) != enc.EncodedLen(len(b)) || !bytes.Equal(payload, appendRef(canon[:0], r)) {
		return Ref{}, ErrInvalidToken
	}
	return r, nil
}

// mac appends to b the truncated MAC of payload.
func (s *Signer) mac(b, payload []byte) []byte {
	m := s.macs.Get().(*macState)
	defer s.macs.Put(m)
	m.h.Reset()
	m.h.Write(domainBytes)
	m.in = append(m.in[:0], payload...)
	m.h.Write(m.in)
	return append(b, m.h.Sum(m.sum[:0])[:macLen]...)
}

// macState is a pooled hash with room for its input and its sum, which
// the hash interface would otherwise make escape to the heap on every MAC
// (a token's decoded bytes among them).
type macState struct {
	h   hash.Hash
	in  []byte
	sum [sha256.Size]byte
}
