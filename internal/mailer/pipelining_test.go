package mailer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scripted is an SMTP server for one connection whose answers a test
// writes: it greets, answers EHLO with the given extensions, then hands
// the connection to the test's script.
type scripted struct {
	addr string
	done chan error // the script's end
}

func serveScript(t *testing.T, extensions []string, script func(c *textproto.Conn) error) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &scripted{addr: ln.Addr().String(), done: make(chan error, 1)}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			s.done <- err
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		c := textproto.NewConn(conn)
		c.PrintfLine("220 script.test ESMTP")
		if _, err := c.ReadLine(); err != nil { // EHLO
			s.done <- err
			return
		}
		lines := append([]string{"script.test"}, extensions...)
		for i, l := range lines {
			sep := "-"
			if i == len(lines)-1 {
				sep = " "
			}
			c.PrintfLine("250%s%s", sep, l)
		}
		s.done <- script(c)
	}()
	return s
}

func (s *scripted) pool(t *testing.T) *Pool {
	t.Helper()
	cfg, err := ParseURL("smtp://" + s.addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HelloName, cfg.Timeout, cfg.TLS = "nurture.test", 5*time.Second, StartTLSOff
	p := NewPool(cfg, nil)
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func (s *scripted) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatal("server: ", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server's script did not end")
	}
}

// expectLines reads len(want) lines and fails unless they are want.
func expectLines(c *textproto.Conn, want ...string) error {
	for _, w := range want {
		l, err := c.ReadLine()
		if err != nil {
			return err
		}
		if l != w {
			return errors.New("got " + l + ", want " + w)
		}
	}
	return nil
}

// readData reads the data up to the final dot, undoing the dot-stuffing.
func readData(c *textproto.Conn) (string, error) {
	b, err := c.ReadDotBytes()
	return string(b), err
}

// Where the server offers PIPELINING, MAIL, RCPT and DATA go out before
// any reply: this server answers none of them until it has read all three,
// which would leave a client sending one at a time waiting for ever.
func TestPool_PipelinesTheCommandsWhereOffered(t *testing.T) {
	t.Parallel()
	var data string
	s := serveScript(t, []string{"PIPELINING", "8BITMIME"}, func(c *textproto.Conn) error {
		if err := expectLines(c, "MAIL FROM:<news@acme.example> BODY=8BITMIME", "RCPT TO:<anna@example.com>", "DATA"); err != nil {
			return err
		}
		c.PrintfLine("250 2.1.0 Ok")
		c.PrintfLine("250 2.1.5 Ok")
		c.PrintfLine("354 End data with <CR><LF>.<CR><LF>")
		var err error
		if data, err = readData(c); err != nil {
			return err
		}
		return c.PrintfLine("250 2.0.0 Ok: queued as 4711")
	})
	p := s.pool(t)
	mail := "Subject: hi\r\n\r\n.a line with a dot\r\n..two\r\n.\r\nend\r\n"
	reply, err := p.Deliver(context.Background(), "Acme <news@acme.example>", "anna@example.com", []byte(mail))
	if err != nil {
		t.Fatal(err)
	}
	s.wait(t)
	if reply != "250 2.0.0 Ok: queued as 4711" {
		t.Errorf("reply %q", reply)
	}
	if want := strings.ReplaceAll(mail, "\r\n", "\n"); data != want {
		t.Errorf("data %q, want %q", data, want)
	}
}

// Without PIPELINING, the client waits for each reply before the next
// command: this server checks that nothing more arrives meanwhile.
func TestPool_SendsOneCommandAtATimeWithoutPipelining(t *testing.T) {
	t.Parallel()
	s := serveScript(t, []string{"8BITMIME"}, func(c *textproto.Conn) error {
		for _, step := range []struct{ line, reply string }{
			{"MAIL FROM:<news@acme.example> BODY=8BITMIME", "250 Ok"},
			{"RCPT TO:<anna@example.com>", "250 Ok"},
			{"DATA", "354 Go ahead"},
		} {
			if err := expectLines(c, step.line); err != nil {
				return err
			}
			if c.R.Buffered() > 0 {
				return errors.New("the next command came before the reply to " + step.line)
			}
			c.PrintfLine("%s", step.reply)
		}
		if _, err := readData(c); err != nil {
			return err
		}
		return c.PrintfLine("250 Ok")
	})
	p := s.pool(t)
	if _, err := p.Deliver(context.Background(), "news@acme.example", "anna@example.com", []byte("Subject: hi\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	s.wait(t)
}

// A refused recipient makes the server refuse DATA; the client reads
// every reply, reports the RCPT refusal, resets, and sends the next mail
// on the same connection. A server that accepts DATA after refusing the
// recipient gets an empty data, then RSET.
func TestPool_PipelinedRefusalKeepsTheConversationInStep(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		dataReply string
	}{
		{"DATA refused", "554 5.5.1 No valid recipients"},
		{"DATA accepted all the same", "354 Go ahead"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := serveScript(t, []string{"PIPELINING"}, func(c *textproto.Conn) error {
				if err := expectLines(c, "MAIL FROM:<news@acme.example>", "RCPT TO:<gone@example.com>", "DATA"); err != nil {
					return err
				}
				c.PrintfLine("250 Ok")
				c.PrintfLine("550 5.1.1 No such user")
				c.PrintfLine("%s", tt.dataReply)
				if strings.HasPrefix(tt.dataReply, "354") {
					if data, err := readData(c); err != nil || data != "" {
						return errors.New("want an empty data, got " + data)
					}
					c.PrintfLine("554 5.5.1 No recipients")
				}
				if err := expectLines(c, "RSET"); err != nil {
					return err
				}
				c.PrintfLine("250 Ok")
				if err := expectLines(c, "MAIL FROM:<news@acme.example>", "RCPT TO:<anna@example.com>", "DATA"); err != nil {
					return err
				}
				c.PrintfLine("250 Ok")
				c.PrintfLine("250 Ok")
				c.PrintfLine("354 Go ahead")
				if _, err := readData(c); err != nil {
					return err
				}
				return c.PrintfLine("250 Ok")
			})
			p := s.pool(t)
			ctx := context.Background()
			_, err := p.Deliver(ctx, "news@acme.example", "gone@example.com", []byte("Subject: x\r\n\r\nx\r\n"))
			var se *SMTPError
			if !errors.As(err, &se) || se.Command != "RCPT" || se.Code != 550 || !Permanent(err) {
				t.Fatalf("err %v, want the RCPT refusal", err)
			}
			if _, err := p.Deliver(ctx, "news@acme.example", "anna@example.com", []byte("Subject: y\r\n\r\ny\r\n")); err != nil {
				t.Fatal(err)
			}
			s.wait(t)
			if st := p.Stats(); st.Dials != 1 {
				t.Errorf("%d dials, want the connection kept", st.Dials)
			}
		})
	}
}

// writeData writes what textproto's DotWriter writes, less the final dot,
// for every kind of line end.
func TestWriteData_IsDotWritersOutputWithoutTheFinalDot(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"",
		"Subject: x\r\n\r\nbody\r\n",
		".leading dot\r\nmid.dle\r\n.\r\n..\r\nlast",
		"a\r\n.\r\n.b\r\n",
		"bare\nline ends\n.dot\n",
		"mixed\r\nends\n.dot\r\n",
		"a bare CR\r stays\r\n",
	} {
		var want bytes.Buffer
		d := textproto.NewWriter(bufio.NewWriter(&want)).DotWriter()
		d.Write([]byte(raw))
		d.Close()
		var got bytes.Buffer
		w := bufio.NewWriterSize(&got, 16) // small, so large writes bypass it
		if err := writeData(w, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		w.Write(dotLine)
		w.Flush()
		if got.String() != want.String() {
			t.Errorf("%q:\ngot  %q\nwant %q", raw, got.String(), want.String())
		}
	}
}

// DeliverChain sends the next mail's commands behind the final dot: this
// server answers the dot only once it has read them too. A refused mail
// in the chain is reported in its place, and the chain goes on.
func TestPool_DeliverChainPipelinesTheNextMailBehindTheDot(t *testing.T) {
	t.Parallel()
	cmds := func(to string) []string {
		return []string{"MAIL FROM:<news@acme.example>", "RCPT TO:<" + to + ">", "DATA"}
	}
	s := serveScript(t, []string{"PIPELINING"}, func(c *textproto.Conn) error {
		steps := []func() error{
			func() error { return expectLines(c, cmds("a@example.com")...) },
			func() error { c.PrintfLine("250 Ok"); c.PrintfLine("250 Ok"); return c.PrintfLine("354 Go ahead") },
			func() error { _, err := readData(c); return err },
			func() error { return expectLines(c, cmds("b@example.com")...) },
			func() error {
				c.PrintfLine("250 Ok: queued as 1")
				c.PrintfLine("250 Ok")
				c.PrintfLine("550 5.1.1 No such user")
				return c.PrintfLine("554 No valid recipients")
			},
			func() error { return expectLines(c, "RSET") },
			func() error { return c.PrintfLine("250 Ok") },
			func() error { return expectLines(c, cmds("c@example.com")...) },
			func() error { c.PrintfLine("250 Ok"); c.PrintfLine("250 Ok"); return c.PrintfLine("354 Go ahead") },
			func() error { _, err := readData(c); return err },
			func() error { return c.PrintfLine("250 Ok: queued as 2") },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	p := s.pool(t)
	mails := []Mail{
		{From: "news@acme.example", To: "a@example.com", Raw: []byte("Subject: a\r\n\r\na\r\n")},
		{From: "news@acme.example", To: "b@example.com", Raw: []byte("Subject: b\r\n\r\nb\r\n")},
		{From: "news@acme.example", To: "c@example.com", Raw: []byte("Subject: c\r\n\r\nc\r\n")},
	}
	i := 0
	next := func() (Mail, bool) {
		if i++; i < len(mails) {
			return mails[i], true
		}
		return Mail{}, false
	}
	var got []string
	p.DeliverChain(context.Background(), mails[0], next, func(reply string, err error) {
		var se *SMTPError
		switch {
		case err == nil:
			got = append(got, reply)
		case errors.As(err, &se):
			got = append(got, se.Command+" "+strconv.Itoa(se.Code))
		default:
			got = append(got, err.Error())
		}
	})
	s.wait(t)
	if want := "250 Ok: queued as 1|RCPT 550|250 Ok: queued as 2"; strings.Join(got, "|") != want {
		t.Fatalf("outcomes %q, want %q", got, want)
	}
	if st := p.Stats(); st.Sent != 2 || st.Dials != 1 {
		t.Errorf("stats %+v, want 2 sent on 1 connection", st)
	}
}
