package mailer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// This file holds one SMTP connection's life: dialling, reuse, QUIT, and
// the transaction on it with what its replies mean.

// get returns an idle connection, the most recently used first, or dials.
func (p *Pool) get(ctx context.Context) (c *smtp.Client, reused bool, err error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c = p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, true, nil
	}
	p.mu.Unlock()
	c, err = p.dial(ctx)
	return c, false, err
}

func (p *Pool) dial(ctx context.Context) (*smtp.Client, error) {
	// go-mail leaves the connection open when the greeting, EHLO, STARTTLS
	// or AUTH fails; keep hold of it to close it.
	var conn net.Conn
	hook := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := p.dialer(ctx, network, addr)
		conn = c
		return c, err
	}
	client, err := gomail.NewClient(p.cfg.Host, append(p.opts[:len(p.opts):len(p.opts)], gomail.WithDialContextFunc(hook))...)
	if err != nil {
		return nil, &unavailable{fmt.Errorf("%s: %w", p.cfg, err)}
	}
	c, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, &unavailable{fmt.Errorf("%s: %w", p.cfg, err)}
	}
	p.dials.Add(1)
	p.open.Add(1)
	p.log.Debug("mailer: connected", "server", p.cfg.String())
	return c, nil
}

// put returns a healthy connection to the pool, or QUITs it once closed.
func (p *Pool) put(c *smtp.Client) {
	p.mu.Lock()
	if !p.closed {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.quit(c)
}

func (p *Pool) discard(c *smtp.Client, reason error) {
	c.Close()
	p.open.Add(-1)
	p.log.Debug("mailer: connection dropped", "server", p.cfg.String(), "reason", reason)
}

func (p *Pool) quit(c *smtp.Client) {
	c.UpdateDeadline(min(p.cfg.Timeout, 5*time.Second))
	if err := c.Quit(); err != nil {
		c.Close()
	}
	p.open.Add(-1)
}

// outcome is how one transaction ended.
type outcome struct {
	reply  string // the server's answer to the end of DATA
	err    error
	broken bool // the connection is unusable
	atMail bool // it broke before the server took anything
}

// transact runs MAIL, RCPT and DATA. A refusal resets the transaction with
// RSET and keeps the connection; a network error or 421 breaks it.
func (p *Pool) transact(c *smtp.Client, from, to string, raw []byte) outcome {
	if err := c.UpdateDeadline(p.cfg.Timeout); err != nil {
		return outcome{err: &unavailable{err}, broken: true, atMail: true}
	}
	if err := c.Mail(from); err != nil {
		o := refused(c, "MAIL", err)
		o.atMail = true
		return o
	}
	if err := c.Rcpt(to); err != nil {
		return refused(c, "RCPT", err)
	}
	w, err := c.Data()
	if err != nil {
		return refused(c, "DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		return outcome{err: &unavailable{err}, broken: true}
	}
	// After the final dot the server is back at the start whatever it
	// answered, so no RSET. Its reply may take minutes (it may be checking
	// the mail); a client that gives up sooner cannot tell whether the
	// mail was taken.
	if err := c.UpdateDeadline(p.cfg.ReplyTimeout); err != nil {
		return outcome{err: &unavailable{err}, broken: true}
	}
	if err := w.Close(); err != nil {
		return noReply(err)
	}
	o := outcome{reply: "250"}
	if dc, ok := w.(*smtp.DataCloser); ok && dc.ServerResponse() != "" {
		o.reply = "250 " + dc.ServerResponse()
	}
	return o
}

// noReply is the outcome of an error where the reply to the data belonged:
// a refusal, or no reply at all, in which case the server may have taken
// the mail.
func noReply(err error) outcome {
	e, broken := classify("DATA", err)
	if !errors.As(err, new(*textproto.Error)) {
		e = &unavailable{fmt.Errorf("%w: %w", ErrNoReply, err)}
	}
	return outcome{err: e, broken: broken}
}

func refused(c *smtp.Client, command string, err error) outcome {
	e, broken := classify(command, err)
	if !broken {
		if rerr := c.Reset(); rerr != nil {
			broken = true
		}
	}
	return outcome{err: e, broken: broken}
}

// classify turns a go-mail error into an SMTPError for a 4xx or 5xx reply,
// or an ErrUnavailable for anything that leaves the connection unusable.
func classify(command string, err error) (error, bool) {
	var tpe *textproto.Error
	if !errors.As(err, &tpe) {
		return &unavailable{err}, true
	}
	se := newSMTPError(command, tpe.Code, tpe.Msg)
	if tpe.Code == 421 || tpe.Code < 400 || tpe.Code >= 600 {
		// 421: the server is closing the connection; other codes here
		// mean client and server disagree about the conversation.
		return &unavailable{se}, true
	}
	return se, false
}

// envelope turns an address, with or without a display name, into the
// <addr> form of MAIL FROM and RCPT TO.
func envelope(addr string) (string, bool) {
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return "", false
	}
	return (&mail.Address{Address: a.Address}).String(), true
}

// writeData writes raw to w as the data of a transaction, dot-stuffed
// (RFC 5321 4.5.2) and ending in CRLF, but not the final dot, and leaves
// the rest buffered: an error here means the server cannot have taken the
// mail. A mail with CRLF line ends
// only, as Compose makes it, goes in a few large writes, a dot added to
// each line that begins with one. Any other mail goes through textproto's
// DotWriter, which also turns a bare LF into CRLF.
func writeData(w *bufio.Writer, raw []byte) error {
	if bytes.Count(raw, lf) != bytes.Count(raw, crlf) {
		var b bytes.Buffer
		bw := bufio.NewWriter(&b)
		d := textproto.NewWriter(bw).DotWriter()
		d.Write(raw)
		d.Close()
		_, err := w.Write(bytes.TrimSuffix(b.Bytes(), dotLine))
		return err
	}
	rest := raw
	if len(rest) > 0 && rest[0] == '.' {
		w.WriteByte('.')
	}
	for {
		i := bytes.Index(rest, crlfDot)
		if i < 0 {
			break
		}
		w.Write(rest[:i+3]) // up to and with the dot, which is written again
		rest = rest[i+2:]
	}
	_, err := w.Write(rest) // a bufio.Writer's error sticks: this is the first
	if err == nil && !bytes.HasSuffix(raw, crlf) {
		_, err = w.Write(crlf)
	}
	return err
}

var (
	lf      = []byte("\n")
	crlf    = []byte("\r\n")
	crlfDot = []byte("\r\n.")
	dotLine = []byte(".\r\n")
)
