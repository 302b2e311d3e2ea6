package mailer

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"net/mail"
	"net/textproto"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is a mail to compose.
type Message struct {
	From    string // header From, e.g. "Acme <news@acme.example>"
	To      string
	Subject string
	HTML    string
	Text    string
	// A preheader, the preview line mail clients show after the subject,
	// is part of HTML as the layout rendered it; Compose does not add one.
	MessageID string    // from NewMessageID; required
	Date      time.Time // required

	// ListUnsubscribeURL is the one-click link (RFC 8058); with it come
	// List-Unsubscribe and List-Unsubscribe-Post. RFC 8058 asks for https;
	// http is accepted for development.
	ListUnsubscribeURL    string
	ListUnsubscribeMailto string // "mailto:…" or a bare address; optional

	Headers map[string]string // more headers, e.g. X-Campaign
}

// headers Compose writes itself; Message.Headers may not set them.
var reserved = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Subject": true, "Date": true,
	"Message-Id": true, "Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true,
	"List-Unsubscribe": true, "List-Unsubscribe-Post": true, "Dkim-Signature": true,
	"Sender": true, "Return-Path": true,
}

// Composer turns Messages into the exact bytes to send, DKIM-signed when
// configured. It is safe for concurrent use.
type Composer struct {
	dkimDomain, dkimSelector string
	dkimKey                  crypto.Signer

	// from is the last From parsed: nearly every mail has the same one,
	// and parsing it again cost more than any other header.
	from atomic.Pointer[parsedAddress]
}

type parsedAddress struct {
	raw  string
	addr *mail.Address // never changed once stored
}

// parseFrom is mail.ParseAddress(raw), remembering the last one.
func (c *Composer) parseFrom(raw string) (*mail.Address, error) {
	if p := c.from.Load(); p != nil && p.raw == raw {
		return p.addr, nil
	}
	addr, err := mail.ParseAddress(raw)
	if err != nil {
		return nil, err
	}
	c.from.Store(&parsedAddress{raw: raw, addr: addr})
	return addr, nil
}

// NewComposer returns a Composer that signs with the DKIM settings of cfg,
// if any.
func NewComposer(cfg Config) (*Composer, error) {
	c := &Composer{}
	set := 0
	for _, v := range []bool{cfg.DKIMDomain != "", cfg.DKIMSelector != "", len(cfg.DKIMKeyPEM) > 0} {
		if v {
			set++
		}
	}
	switch set {
	case 0:
		return c, nil
	case 3:
	default:
		return nil, fmt.Errorf("mailer: DKIM needs a domain, a selector and a key, or none of them")
	}
	key, err := gomail.PrivKeyFromPEM(cfg.DKIMKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("mailer: DKIM key: %w", err)
	}
	// go-mail accepts any crypto.Signer here but fails on anything but
	// RSA or Ed25519 only when signing; check now, at start.
	if err := gomail.NewDKIMSigner(cfg.DKIMDomain, cfg.DKIMSelector, key).ValidateConfig(); err != nil {
		return nil, fmt.Errorf("mailer: DKIM: %w", err)
	}
	c.dkimDomain, c.dkimSelector, c.dkimKey = cfg.DKIMDomain, cfg.DKIMSelector, key
	return c, nil
}

// Compose returns the message as it goes over SMTP. The same Message
// always gives the same bytes: the MIME boundary comes from the
// Message-ID and the DKIM timestamp from Date. The MIME is written with
// the standard library (mime, mime/quotedprintable; the multipart framing
// as mime/multipart writes it) rather
// than through a go-mail message, which cost several times as much per
// mail; go-mail's signer signs it.
func (c *Composer) Compose(m Message) ([]byte, error) {
	if err := checkHeaders(m); err != nil {
		return nil, err
	}
	id := strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">")
	if id == "" || strings.ContainsAny(id, "<> \t") || !strings.Contains(id, "@") {
		return nil, fmt.Errorf("mailer: compose: Message-ID %q: want <random@domain>: %w", m.MessageID, ErrBadHeader)
	}
	if m.Date.IsZero() {
		return nil, fmt.Errorf("mailer: compose: Date missing")
	}
	if m.HTML == "" && m.Text == "" {
		return nil, fmt.Errorf("mailer: compose: no body")
	}

	from, err := c.parseFrom(m.From)
	if err != nil {
		return nil, fmt.Errorf("mailer: compose: From %q: %w", m.From, ErrInvalidAddress)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("mailer: compose: To %q: %w", m.To, ErrInvalidAddress)
	}
	var unsubscribe []string
	if m.ListUnsubscribeURL != "" || m.ListUnsubscribeMailto != "" {
		if unsubscribe, err = unsubscribeURIs(m.ListUnsubscribeURL, m.ListUnsubscribeMailto); err != nil {
			return nil, err
		}
	}
	// Quoted-printable grows text by a few percent, HTML a little more; one
	// allocation of about the final size spares the buffer's doublings.
	var buf bytes.Buffer
	buf.Grow(2048 + len(m.Text) + len(m.HTML)*5/4)
	signed := writeHeaders(&buf, m, from, to, unsubscribe, id)
	if err := writeBody(&buf, m, boundary(id)); err != nil {
		return nil, fmt.Errorf("mailer: compose: %w", err)
	}
	if c.dkimKey == nil {
		return buf.Bytes(), nil
	}
	// A signer per message: go-mail's Signer caches state on first use and
	// is not safe to share between goroutines.
	signer := gomail.NewDKIMSigner(c.dkimDomain, c.dkimSelector, c.dkimKey)
	signer.NowFunc = func() time.Time { return m.Date }
	// RFC 8058 wants the one-click headers covered by the signature.
	signer.SignHeaders(signed...)
	raw := buf.Bytes()
	end := bytes.Index(raw, []byte("\r\n\r\n")) // the header block's
	sig, err := signer.Sign(raw[:end+2], raw[end+4:])
	if err != nil {
		return nil, fmt.Errorf("mailer: compose: DKIM: %w", err)
	}
	return refoldSignature(append([]byte(sig), raw...)), nil
}

// refoldSignature re-folds the DKIM-Signature header that go-mail's
// signer made, which Compose puts first. go-mail (v0.8.1) breaks long tag values at a fixed width, also inside
// the h= list: "List-Unsubscrib<CRLF> e". Relaxed canonicalization keeps
// the space such a fold leaves, so the signature, made over the unfolded
// value, no longer verifies. Folding only after the "; " between tags and
// inside the b= value, where a verifier ignores whitespace, keeps the
// canonical form what go-mail signed.
func refoldSignature(raw []byte) []byte {
	const name = "DKIM-Signature: "
	if !bytes.HasPrefix(raw, []byte(name)) {
		return raw
	}
	end := 0
	for {
		i := bytes.Index(raw[end:], []byte("\r\n"))
		if i < 0 {
			return raw
		}
		end += i + 2
		if end >= len(raw) || (raw[end] != ' ' && raw[end] != '\t') {
			break
		}
	}
	value := strings.ReplaceAll(string(raw[len(name):end-2]), "\r\n ", "")
	tags := strings.Split(value, "; ")
	sig, ok := strings.CutPrefix(tags[len(tags)-1], "b=")
	if !ok {
		return raw
	}
	var b strings.Builder
	b.WriteString(name)
	for _, tag := range tags[:len(tags)-1] {
		b.WriteString(tag + ";\r\n ")
	}
	b.WriteString("b=")
	for len(sig) > 72 {
		b.WriteString(sig[:72] + "\r\n ")
		sig = sig[72:]
	}
	b.WriteString(sig + "\r\n")
	return append([]byte(b.String()), raw[end:]...)
}

// checkHeaders refuses header values that could end a header early. It
// does not clean them: a CR or LF there is a bug or an attack upstream.
func checkHeaders(m Message) error {
	fields := []struct{ name, value string }{
		{"From", m.From}, {"To", m.To}, {"Subject", m.Subject}, {"Message-ID", m.MessageID},
		{"List-Unsubscribe URL", m.ListUnsubscribeURL}, {"List-Unsubscribe mailto", m.ListUnsubscribeMailto},
	}
	seen := make(map[string]bool, len(m.Headers))
	for name, value := range m.Headers {
		canon := textproto.CanonicalMIMEHeaderKey(name)
		switch {
		case !validName(name):
			return fmt.Errorf("mailer: compose: header name %q: %w", name, ErrBadHeader)
		case reserved[canon]:
			return fmt.Errorf("mailer: compose: header %s is set by Compose: %w", canon, ErrBadHeader)
		case seen[canon]:
			return fmt.Errorf("mailer: compose: header %s given twice: %w", canon, ErrBadHeader)
		}
		seen[canon] = true
		fields = append(fields, struct{ name, value string }{canon, value})
	}
	for _, f := range fields {
		if strings.ContainsAny(f.value, "\r\n") {
			return fmt.Errorf("mailer: compose: %s contains CR or LF: %w", f.name, ErrBadHeader)
		}
	}
	return nil
}

// validName is RFC 5322's field name: printable ASCII but the colon.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] <= ' ' || name[i] > '~' || name[i] == ':' {
			return false
		}
	}
	return true
}

func unsubscribeURIs(link, mailto string) ([]string, error) {
	var uris []string
	if link != "" {
		u, err := url.Parse(link)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(link, "<> ") {
			return nil, fmt.Errorf("mailer: compose: List-Unsubscribe URL %q: want an https URL: %w", link, ErrBadHeader)
		}
		uris = append(uris, "<"+link+">")
	}
	if mailto != "" {
		if !strings.HasPrefix(strings.ToLower(mailto), "mailto:") {
			mailto = "mailto:" + mailto
		}
		u, err := url.Parse(mailto)
		if err != nil || !strings.Contains(u.Opaque, "@") || strings.ContainsAny(mailto, "<> ") {
			return nil, fmt.Errorf("mailer: compose: List-Unsubscribe mailto %q: %w", mailto, ErrBadHeader)
		}
		uris = append(uris, "<"+mailto+">")
	}
	return uris, nil
}

// boundary derives the MIME boundary from the Message-ID, so Compose is
// reproducible. It cannot turn up in quoted-printable content by chance:
// only a message that quoted its own hashed Message-ID could contain it.
func boundary(messageID string) string {
	sum := sha256.Sum256([]byte(messageID))
	return "nurture-" + hex.EncodeToString(sum[:16])
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewMessageID returns a new unguessable Message-ID, <…@domain>, with 160
// random bits.
func NewMessageID(domain string) string {
	b := make([]byte, 20)
	rand.Read(b)
	return "<" + strings.ToLower(idEncoding.EncodeToString(b)) + "@" + cmp.Or(domain, "localhost") + ">"
}
