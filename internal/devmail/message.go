package devmail

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"github.com/mailhog/data"
)

// maxParts bounds how many MIME parts one message may have before the
// decoded view gives up, so a hostile message cannot make it loop for long.
const maxParts = 100

// Message is one caught message, decoded for tests and the web UI.
type Message struct {
	ID      string
	From    string   // envelope sender (MAIL FROM)
	To      []string // envelope recipients (RCPT TO)
	Helo    string
	Created time.Time

	Subject string      // decoded
	Header  mail.Header // as sent, keys canonical
	HTML    string      // first text/html part, transfer encoding undone
	Text    string      // first text/plain part, transfer encoding undone
	Raw     []byte      // the DATA exactly as received, dot-unstuffed
}

// message returns the decoded message with its own copy of the raw bytes.
func (e *entry) message(m *data.Message) Message {
	msg := e.summary(m)
	msg.Raw = []byte(e.raw)
	return msg
}

// summary is the decoded message without the raw bytes, for listings.
func (e *entry) summary(m *data.Message) Message {
	e.once.Do(func() { e.parsed = parse(m, e.raw) })
	msg := e.parsed
	msg.To = append([]string(nil), msg.To...)
	return msg
}

func parse(m *data.Message, raw string) Message {
	msg := Message{
		ID:      string(m.ID),
		From:    m.Raw.From,
		To:      m.Raw.To,
		Helo:    m.Raw.Helo,
		Created: m.Created,
		Header:  mail.Header{},
	}
	r, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return msg
	}
	msg.Header = r.Header
	dec := mime.WordDecoder{}
	msg.Subject, err = dec.DecodeHeader(r.Header.Get("Subject"))
	if err != nil {
		msg.Subject = r.Header.Get("Subject")
	}
	parts := 0
	walk(r.Header.Get("Content-Type"), r.Header.Get("Content-Transfer-Encoding"), r.Body, &msg, &parts)
	return msg
}

// walk fills msg.HTML and msg.Text from a part and, for multipart parts,
// from its children. Broken MIME leaves what was found so far.
func walk(contentType, encoding string, body io.Reader, msg *Message, parts *int) {
	*parts++
	if *parts > maxParts {
		return
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, msg, parts)
		}
	}
	if (mediaType != "text/html" || msg.HTML != "") && (mediaType != "text/plain" || msg.Text != "") {
		return
	}
	b, _ := io.ReadAll(decode(encoding, body))
	if mediaType == "text/html" {
		msg.HTML = string(b)
	} else {
		msg.Text = string(b)
	}
}

func decode(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r)
	}
	return r
}

func waitErr(ctx context.Context, have, want int) error {
	return fmt.Errorf("devmail: waiting for %d messages, have %d: %w", want, have, context.Cause(ctx))
}
