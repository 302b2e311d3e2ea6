package devmail

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailhog/data"
	"github.com/mailhog/smtp"
)

const (
	idleTimeout    = 5 * time.Minute // RFC 5321 4.5.3.2.7: at least five minutes
	maxCommandLine = 4096
)

// Stage is the point of an SMTP transaction at which a Rule is asked.
type Stage int

const (
	// AtRcpt is the reply to RCPT TO, for one recipient.
	AtRcpt Stage = iota + 1
	// AtData is the reply after the message data, once per transaction;
	// the rule is asked for each accepted recipient and the first reply
	// wins.
	AtData
)

// Reply is an SMTP reply a Rule makes the catcher send instead of accepting.
type Reply struct {
	Code     int    // e.g. 451 or 550
	Enhanced string // e.g. "4.3.0"; optional
	Text     string
}

func (r Reply) String() string {
	s := strconv.Itoa(r.Code)
	if r.Enhanced != "" {
		s += " " + r.Enhanced
	}
	if text := strings.NewReplacer("\r", " ", "\n", " ").Replace(r.Text); text != "" {
		s += " " + text
	}
	return s
}

// Rule decides the reply for one recipient at one stage of a transaction.
// It returns nil to accept. It is called from many connections at once.
type Rule func(stage Stage, from, to string) *Reply

// Fail returns a Rule that answers reply at stage for the given recipients
// (compared without regard to case), or for every recipient if none are
// given.
func Fail(stage Stage, reply Reply, recipients ...string) Rule {
	return func(st Stage, _, to string) *Reply {
		if st != stage {
			return nil
		}
		if len(recipients) == 0 {
			return &reply
		}
		for _, r := range recipients {
			if strings.EqualFold(r, to) {
				return &reply
			}
		}
		return nil
	}
}

// SetRule makes the catcher consult r for every recipient; nil accepts all.
func (s *Server) SetRule(r Rule) {
	if r == nil {
		s.rule.Store(nil)
		return
	}
	s.rule.Store(&r)
}

func (s *Server) ask(stage Stage, from, to string) *Reply {
	r := s.rule.Load()
	if r == nil {
		return nil
	}
	return (*r)(stage, from, to)
}

// session is one SMTP connection. busy is set between MAIL and the end of
// the transaction, so a graceful shutdown lets the transaction finish.
type session struct {
	conn net.Conn
	busy atomic.Bool
}

var errLineTooLong = errors.New("line too long")

// serve runs one SMTP connection: MailHog's Protocol answers the commands;
// the message data is read here, in one pass into one buffer, because
// Protocol.ProcessData appends line by line to a string, which is
// quadratic in the message size.
func (s *Server) serve(sess *session) {
	c := sess.conn
	defer s.endSession(sess)
	s.connsOpen.Add(1)
	defer s.connsOpen.Add(-1)

	p := smtp.NewProtocol()
	p.Hostname = s.cfg.Hostname
	p.Ident = "ESMTP Nurture devmail"
	// MailHog's protocol log has every line, AUTH secrets included.
	p.LogHandler = func(string, ...any) {}
	// Any credentials are accepted, so a Nurture configured with a user
	// and password can send here too.
	p.GetAuthenticationMechanismsHandler = func() []string { return []string{"PLAIN", "LOGIN", "CRAM-MD5"} }

	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 4<<10)
	writeProto(w, p.Start())
	var helo string
	for {
		if s.draining.Load() && !sess.busy.Load() {
			bye(w)
			return
		}
		// Replies to pipelined commands go out together.
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		// Shutdown may have set its deadline (now) between the check above
		// and the line before, which would then have undone it.
		if s.draining.Load() && !sess.busy.Load() {
			bye(w)
			return
		}
		line, err := readCommand(r)
		if errors.Is(err, errLineTooLong) {
			writeReply(w, Reply{500, "5.5.2", "Line too long"})
			continue
		}
		if err != nil {
			if s.draining.Load() {
				bye(w)
			}
			return
		}
		if rep := s.intercept(p, line); rep != nil {
			writeReply(w, *rep)
			continue
		}
		reply := p.ProcessCommand(line)
		// MailHog's RSET forgets the HELO name; a connection keeps it.
		if p.Message.Helo == "" {
			p.Message.Helo = helo
		}
		helo = p.Message.Helo
		writeProto(w, reply)
		if reply.Status == 221 {
			w.Flush()
			return
		}
		sess.busy.Store(p.State == smtp.RCPT || p.State == smtp.DATA)
		if p.State != smtp.DATA {
			continue
		}
		if err := w.Flush(); err != nil {
			return
		}
		rep, err := s.receive(p, r)
		if err != nil {
			return
		}
		writeReply(w, rep)
		sess.busy.Store(false)
	}
}

// intercept answers what MailHog's Protocol would get wrong or cannot
// express: rule replies at RCPT, and DATA with no accepted recipient.
func (s *Server) intercept(p *smtp.Protocol, line string) *Reply {
	if p.State != smtp.RCPT {
		return nil
	}
	verb, args, _ := strings.Cut(line, " ")
	switch {
	case strings.EqualFold(verb, "RCPT"):
		to, err := p.ParseRCPT(args)
		if err != nil {
			return nil
		}
		return s.ask(AtRcpt, p.Message.From, to)
	case strings.EqualFold(verb, "DATA") && len(p.Message.To) == 0:
		return &Reply{554, "5.5.1", "No valid recipients"}
	}
	return nil
}

// receive reads the message data, applies the rules and stores the
// message, leaving the protocol ready for the next transaction.
func (s *Server) receive(p *smtp.Protocol, r *bufio.Reader) (Reply, error) {
	raw, tooBig, err := readData(r, s.cfg.MaxMessageSize)
	if err != nil {
		return Reply{}, err
	}
	msg := p.Message
	p.State = smtp.MAIL
	p.Message = &data.SMTPMessage{Helo: msg.Helo}

	if tooBig {
		return Reply{552, "5.3.4", "Message too big"}, nil
	}
	for _, to := range msg.To {
		if rep := s.ask(AtData, msg.From, to); rep != nil {
			return *rep, nil
		}
	}
	// MailHog keeps the data without the line break before the final dot.
	msg.Data = strings.TrimSuffix(raw, "\r\n")
	m := msg.Parse(s.cfg.Hostname)
	m.Created = s.cfg.Now()
	s.store.add(m, raw)
	s.received.Add(1)
	s.log.Debug("devmail: caught", "id", m.ID, "from", msg.From, "rcpts", len(msg.To), "bytes", len(raw))
	return Reply{250, "2.0.0", "Ok: queued as " + string(m.ID)}, nil
}

// readCommand reads one command line without its line break.
func readCommand(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || len(line) > maxCommandLine {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.ReadSlice('\n')
		}
		if err != nil {
			return "", err
		}
		return "", errLineTooLong
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// readData reads message data up to the line with a single dot, undoing
// dot-stuffing. Past max bytes it keeps reading but stops storing.
func readData(r *bufio.Reader, max int) (raw string, tooBig bool, err error) {
	var b strings.Builder
	bol := true
	for {
		chunk, err := r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return "", false, err
		}
		if bol {
			if string(chunk) == ".\r\n" || string(chunk) == ".\n" {
				return b.String(), tooBig, nil
			}
			if len(chunk) > 0 && chunk[0] == '.' {
				chunk = chunk[1:]
			}
		}
		bol = err == nil
		if b.Len()+len(chunk) > max {
			tooBig = true
			continue
		}
		b.Write(chunk)
	}
}

func bye(w *bufio.Writer) {
	writeReply(w, Reply{421, "4.3.2", "Nurture devmail shutting down"})
	w.Flush()
}

func writeProto(w *bufio.Writer, r *smtp.Reply) {
	for _, l := range r.Lines() {
		w.WriteString(l)
	}
}

func writeReply(w *bufio.Writer, r Reply) {
	fmt.Fprintf(w, "%s\r\n", r)
}
