package mailer

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

var (
	// ErrUnavailable means the server could not be reached or the
	// connection broke: nothing is known to be delivered, and another
	// attempt later may succeed.
	ErrUnavailable = errors.New("mailer: SMTP server unavailable")
	// ErrNoReply means the message data went out and no reply came (the
	// wait ran out or the connection broke): the server may have taken the
	// mail. It comes with ErrUnavailable.
	ErrNoReply = errors.New("mailer: no reply to the message data")
	// ErrClosed means Send was called on, or was waiting in, a closed Pool.
	ErrClosed = errors.New("mailer: pool closed")
	// ErrInvalidAddress means a recipient is not a mail address; sending
	// to it can never work.
	ErrInvalidAddress = errors.New("mailer: invalid address")
	// ErrBadHeader means a header name or value would break the message,
	// e.g. a value with CR or LF.
	ErrBadHeader = errors.New("mailer: bad header")
)

// SMTPError is a 4xx or 5xx reply to MAIL, RCPT or DATA.
type SMTPError struct {
	Code     int    // e.g. 550
	Enhanced string // e.g. "5.1.1", if the server sent one
	Message  string // the reply text after the codes
	Command  string // what was refused: "MAIL", "RCPT" or "DATA"
}

func (e *SMTPError) Error() string {
	s := "mailer: SMTP " + e.Command + " refused: " + strconv.Itoa(e.Code)
	if e.Enhanced != "" {
		s += " " + e.Enhanced
	}
	if e.Message != "" {
		s += " " + e.Message
	}
	return s
}

// Temporary reports whether another attempt may succeed: a 4xx reply, or
// any refusal of MAIL FROM. A 5xx to MAIL refuses the sender (relay
// denied, authentication needed, a blocked IP), which is the operator's to
// fix and says nothing about the recipient, so it must not bounce leads.
func (e *SMTPError) Temporary() bool {
	return e.Code < 500 || e.Command == "MAIL"
}

// Permanent reports whether err says the mail can never be delivered to
// its recipient: a 5xx reply to RCPT or to the message data, or an invalid
// recipient address. Anything else, an unreachable server included, is
// worth another attempt. It agrees with any caller that asks the error
// chain for a Temporary() method.
func Permanent(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && !t.Temporary()
}

// unavailable wraps what broke a connection. It answers Temporary itself,
// first in the chain, because some network errors it wraps (a refused
// connection's *net.OpError) report Temporary() false, which callers would
// read as "never deliverable".
type unavailable struct{ err error }

func (e *unavailable) Error() string   { return ErrUnavailable.Error() + ": " + e.err.Error() }
func (e *unavailable) Unwrap() []error { return []error{ErrUnavailable, e.err} }
func (e *unavailable) Temporary() bool { return true }

// addressError is a recipient that is not an address.
type addressError struct{ addr string }

func (e *addressError) Error() string {
	return "mailer: recipient " + strconv.Quote(e.addr) + " is not a mail address"
}
func (e *addressError) Is(target error) bool { return target == ErrInvalidAddress }
func (e *addressError) Temporary() bool      { return false }

var enhancedRE = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}\b`)

func newSMTPError(command string, code int, msg string) *SMTPError {
	msg = strings.ReplaceAll(msg, "\n", " ")
	enhanced := enhancedRE.FindString(msg)
	return &SMTPError{
		Code:     code,
		Enhanced: enhanced,
		Message:  strings.TrimSpace(msg[len(enhanced):]),
		Command:  command,
	}
}
