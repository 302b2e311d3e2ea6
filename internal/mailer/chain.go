package mailer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wneessen/go-mail/smtp"
)

// This file holds transactions in a row on one connection, pipelined
// (RFC 2920) where the server offers it.

// Mail is one message for DeliverChain: the envelope, with or without
// display names, and the exact bytes, with CRLF line ends.
type Mail struct {
	From, To string
	Raw      []byte
}

// DeliverChain delivers first, then each mail next returns, in order over
// one connection, as Deliver delivers one, and calls done with each mail's
// reply or error, once per mail and in the same order. Where the server
// offers PIPELINING, a mail's commands go out together with the end of
// the mail before it, so each mail costs one round trip.
//
// next is asked as each mail's data is about to end, and must not wait:
// it returns false when it has nothing ready (nil: never), which ends the
// chain after that mail. The chain also ends after an error that breaks
// the connection, and when ctx is done or the pool closes. A mail whose
// commands went out behind the one before it but whose data never did,
// because the chain ended, gets an ErrUnavailable: the server took
// nothing. With a rate limit, a mail joins the chain only if the limit
// lets it through at once.
func (p *Pool) DeliverChain(ctx context.Context, first Mail, next func() (Mail, bool), done func(reply string, err error)) {
	for { // a mail whose envelope is no address needs no connection
		_, _, err := envelopes(first)
		if err == nil {
			break
		}
		done("", err)
		var ok bool
		if next == nil {
			return
		}
		if first, ok = next(); !ok {
			return
		}
	}
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer context.AfterFunc(p.closing, func() { cancel(ErrClosed) })()
	if err := p.acquire(wctx); err != nil {
		done("", err)
		return
	}
	defer func() { <-p.slots }()
	if p.limiter != nil {
		if err := p.limiter.Wait(wctx); err != nil {
			done("", waitErr(wctx, err))
			return
		}
	}
	c, reused, err := p.get(wctx)
	if err != nil {
		done("", err)
		return
	}
	k := &chain{p: p, ctx: wctx, next: next, done: done, retryStale: reused}
	broken, stale := k.run(c, first)
	if stale {
		// A pooled connection the server closed while it was idle: nothing
		// was sent, so one try on a fresh connection is safe.
		p.discard(c, broken)
		if c, err = p.dial(wctx); err != nil {
			done("", err)
			return
		}
		k.retryStale = false
		broken, _ = k.run(c, first)
	}
	if broken != nil {
		p.discard(c, broken)
	} else {
		p.put(c)
	}
}

// chain is one DeliverChain's run of transactions on a connection.
type chain struct {
	p          *Pool
	ctx        context.Context
	next       func() (Mail, bool)
	done       func(reply string, err error)
	retryStale bool // the connection was pooled: a first transaction broken before its data is tried again
}

// stale reports whether the chain's first transaction, which broke before
// its data, is to be tried again on a fresh connection.
func (k *chain) stale() bool { return k.retryStale && k.ctx.Err() == nil }

// more returns the next mail to chain, if the chain goes on.
func (k *chain) more() (Mail, bool) {
	if k.next == nil || k.ctx.Err() != nil || k.p.limiter != nil && !k.p.limiter.Allow() {
		return Mail{}, false
	}
	return k.next()
}

// report passes a mail's outcome on.
func (k *chain) report(o outcome) {
	if o.err == nil {
		k.p.sent.Add(1)
	}
	k.done(o.reply, o.err)
}

// run runs the chain from m on c until it ends, and returns why c broke
// (nil: it is fine). With stale, the first transaction broke before its
// data on a pooled connection, and nothing was reported.
func (k *chain) run(c *smtp.Client, m Mail) (broken error, stale bool) {
	if ok, _ := c.Extension("PIPELINING"); ok {
		return k.pipelined(c, m)
	}
	for first := true; ; first = false {
		if from, to, err := envelopes(m); err != nil {
			k.done("", err)
		} else {
			o := k.p.transact(c, from, to, m.Raw)
			if o.broken && o.atMail && first && k.stale() {
				return o.err, true
			}
			k.report(o)
			if o.broken {
				return o.err, false
			}
		}
		var ok bool
		if m, ok = k.more(); !ok {
			return nil, false
		}
	}
}

// pipelined is run for a server that offers PIPELINING: MAIL, RCPT and
// DATA go out in one write, and the next mail's with the end of this
// one's data.
func (k *chain) pipelined(c *smtp.Client, m Mail) (broken error, stale bool) {
	more, err := k.begin(c, &m)
	if err != nil && k.stale() {
		return err, true
	}
	if err != nil {
		k.report(outcome{err: err})
		return err, false
	}
	for first := true; more; first = false {
		o, ready := k.p.commandReplies(c)
		if !ready {
			if o.broken && first && k.stale() {
				return o.err, true
			}
			k.report(o)
			if o.broken {
				return o.err, false
			}
			if m, more = k.more(); more {
				more, err = k.restart(c, &m)
			}
		} else {
			more, err = k.send(c, &m)
		}
		if err != nil {
			return err, false
		}
	}
	return nil, false
}

// begin writes the commands of m, or of the first mail after it whose
// envelope is an address (reporting the others), and flushes them. It
// reports false when there was no such mail, and the error that broke the
// connection, unreported.
func (k *chain) begin(c *smtp.Client, m *Mail) (bool, error) {
	for {
		from, to, err := envelopes(*m)
		if err == nil {
			commands(c, from, to)
			break
		}
		k.done("", err)
		var ok bool
		if *m, ok = k.more(); !ok {
			return false, nil
		}
	}
	err := c.UpdateDeadline(k.p.cfg.Timeout)
	if err == nil {
		err = c.Text.W.Flush()
	}
	if err != nil {
		return false, &unavailable{err}
	}
	return true, nil
}

// restart is begin in the middle of a chain, which reports the error.
func (k *chain) restart(c *smtp.Client, m *Mail) (bool, error) {
	more, err := k.begin(c, m)
	if err != nil {
		k.report(outcome{err: err})
	}
	return more, err
}

// send writes m's data and the final dot, and behind it the next mail's
// commands if there is one, reads the reply and reports it. It moves m on
// to the next mail and reports whether there is one whose commands went
// out, and the error that broke the connection, reported.
func (k *chain) send(c *smtp.Client, m *Mail) (bool, error) {
	t := c.Text
	if err := writeData(t.W, m.Raw); err != nil {
		k.report(outcome{err: &unavailable{err}})
		return false, err
	}
	// The reply after the final dot may take minutes (the server may be
	// checking the mail); a client that gives up sooner cannot tell
	// whether the mail was taken.
	if err := c.UpdateDeadline(k.p.cfg.ReplyTimeout); err != nil {
		k.report(outcome{err: &unavailable{err}})
		return false, err
	}
	// From here on, every mail taken is reported.
	nxt, chained := k.more()
	var from, to string
	var envErr error // the next mail's, reported after this one's outcome
	if chained {
		from, to, envErr = envelopes(nxt)
	}
	piped := chained && envErr == nil
	t.W.Write(dotLine)
	if piped {
		commands(c, from, to)
	}
	var o outcome
	if err := t.W.Flush(); err != nil {
		o = outcome{err: &unavailable{fmt.Errorf("%w: %w", ErrNoReply, err)}, broken: true}
	} else if _, msg, err := t.ReadResponse(250); err != nil {
		o = noReply(err)
	} else {
		o = outcome{reply: strings.TrimSpace("250 " + msg)}
	}
	k.report(o)
	switch {
	case chained && envErr != nil:
		k.done("", envErr)
	case piped && o.broken:
		k.done("", &unavailable{o.err})
	case piped && k.ctx.Err() != nil:
		// Stopping, or the pool closes: the next mail's DATA is answered
		// with 354 by now, and only its data could end the transaction.
		// Hanging up ends it with nothing taken.
		err := &unavailable{fmt.Errorf("mailer: chain ended: %w", context.Cause(k.ctx))}
		k.done("", err)
		return false, err
	}
	if o.broken {
		return false, o.err
	}
	if !chained {
		return false, nil
	}
	*m = nxt
	if envErr != nil { // its commands never went: start afresh after it
		var ok bool
		if *m, ok = k.more(); !ok {
			return false, nil
		}
		return k.restart(c, m)
	}
	if err := c.UpdateDeadline(k.p.cfg.Timeout); err != nil {
		k.done("", &unavailable{err})
		return false, err
	}
	return true, nil
}

// envelopes returns a mail's envelope sender and recipient in <addr> form.
func envelopes(m Mail) (from, to string, err error) {
	from, ok := envelope(m.From)
	if !ok {
		return "", "", fmt.Errorf("mailer: sender %q is not a mail address", m.From)
	}
	if to, ok = envelope(m.To); !ok {
		return "", "", &addressError{m.To}
	}
	if strings.ContainsAny(from, "\r\n") || strings.ContainsAny(to, "\r\n") {
		return "", "", errors.New("mailer: an envelope address holds a line break")
	}
	return from, to, nil
}

// commands writes a transaction's MAIL, RCPT and DATA, unflushed, with the
// parameters go-mail's Mail would add.
func commands(c *smtp.Client, from, to string) {
	w := c.Text.W
	w.WriteString("MAIL FROM:")
	w.WriteString(from)
	if ok, _ := c.Extension("8BITMIME"); ok {
		w.WriteString(" BODY=8BITMIME")
	}
	if ok, _ := c.Extension("SMTPUTF8"); ok {
		w.WriteString(" SMTPUTF8")
	}
	w.WriteString("\r\nRCPT TO:")
	w.WriteString(to)
	w.WriteString("\r\nDATA\r\n")
}

// commandReplies reads the replies to MAIL, RCPT and DATA, all of them
// whatever came before, to keep the conversation in step. It reports true
// when the server waits for the data; otherwise the outcome is the first
// failure, the transaction reset.
func (p *Pool) commandReplies(c *smtp.Client) (outcome, bool) {
	t := c.Text
	var refusal error
	for _, step := range [...]struct {
		command string
		code    int
	}{{"MAIL", 250}, {"RCPT", 25}, {"DATA", 354}} {
		_, _, err := t.ReadResponse(step.code)
		if err == nil {
			continue
		}
		e, broken := classify(step.command, err)
		if broken {
			// Nothing was sent after the commands, so nothing was taken.
			return outcome{err: e, broken: true, atMail: true}, false
		}
		if refusal == nil {
			refusal = e
		}
		if step.command == "DATA" {
			return outcome{err: refusal, broken: c.Reset() != nil}, false
		}
	}
	if refusal == nil {
		return outcome{}, true
	}
	// DATA was accepted after a refusal, which a server should not do: end
	// the data at once, with nothing in it, and start over.
	t.W.Write(dotLine)
	err := t.W.Flush()
	if err == nil {
		_, _, err = t.ReadResponse(0) // whatever it says
	}
	return outcome{err: refusal, broken: err != nil || c.Reset() != nil}, false
}
