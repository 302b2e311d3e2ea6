package mailer

import (
	"bytes"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
)

// writeHeaders writes m's headers but Content-Type, and returns the names
// of the headers a DKIM signature covers. They come in the order go-mail
// wrote them in: the plain ones sorted by name, then List-Unsubscribe,
// From and To.
func writeHeaders(b *bytes.Buffer, m Message, from, to *mail.Address, unsubscribe []string, id string) []string {
	signed := []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"}
	plain := map[string]string{
		"Date":         m.Date.Format("Mon, 02 Jan 2006 15:04:05 -0700"),
		"MIME-Version": "1.0",
		"Message-ID":   "<" + id + ">",
		"Subject":      mime.QEncoding.Encode("UTF-8", m.Subject),
	}
	if m.ListUnsubscribeURL != "" {
		plain["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	}
	for name, value := range m.Headers {
		plain[textproto.CanonicalMIMEHeaderKey(name)] = mime.QEncoding.Encode("UTF-8", value)
	}
	names := make([]string, 0, len(plain))
	for name := range plain {
		names = append(names, name)
	}
	slices.Sort(names) // a map's order is random; the bytes must not be
	for _, name := range names {
		header(b, name, plain[name])
	}
	if len(unsubscribe) > 0 {
		// One URI a line, as mail clients show them.
		b.WriteString("List-Unsubscribe: " + strings.Join(unsubscribe, ",\r\n ") + "\r\n")
		signed = append(signed, "List-Unsubscribe")
		if m.ListUnsubscribeURL != "" {
			signed = append(signed, "List-Unsubscribe-Post")
		}
	}
	header(b, "From", from.String())
	header(b, "To", to.String())
	return signed
}

// header writes one header line, folded at its spaces (between the
// encoded words of an encoded value) as go-mail folds: before a word that
// would take the line to 73 characters or more, the first word too.
func header(b *bytes.Buffer, name, value string) {
	b.WriteString(name + ":")
	line := len(name) + 1
	for word := range strings.SplitSeq(value, " ") {
		if line+1+len(word) >= 73 && line > 1 && word != "" {
			b.WriteString("\r\n")
			line = 0
		}
		b.WriteString(" " + word)
		line += 1 + len(word)
	}
	b.WriteString("\r\n")
}

// writeBody writes the Content-Type header, the empty line and the body:
// the text and the HTML as alternatives, or the one of them m has, each
// quoted-printable with CRLF line ends.
func writeBody(b *bytes.Buffer, m Message, boundary string) error {
	if m.Text == "" || m.HTML == "" {
		kind, body := "text/html", m.HTML
		if m.HTML == "" {
			kind, body = "text/plain", m.Text
		}
		b.WriteString("Content-Transfer-Encoding: quoted-printable\r\nContent-Type: " + kind + "; charset=UTF-8\r\n\r\n")
		return writeQP(b, body)
	}
	// The multipart framing as mime/multipart writes it, written here
	// directly: the boundary is ours (hex, valid by construction) and each
	// part has the same two headers, so a multipart.Writer only added a map,
	// a sort and formatted prints per part.
	b.WriteString("Content-Type: multipart/alternative;\r\n boundary=" + boundary + "\r\n\r\n")
	for i, part := range []struct{ kind, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("--" + boundary + "\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: " + part.kind + "; charset=UTF-8\r\n\r\n")
		if err := writeQP(b, part.body); err != nil {
			return err
		}
	}
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return nil
}

func writeQP(b *bytes.Buffer, body string) error {
	qp := quotedprintable.NewWriter(b)
	if _, err := qp.Write([]byte(body)); err != nil {
		return err
	}
	return qp.Close()
}
