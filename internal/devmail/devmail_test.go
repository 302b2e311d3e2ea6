package devmail

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	mail "github.com/wneessen/go-mail"
	mailsmtp "github.com/wneessen/go-mail/smtp"
)

type bundle struct {
	srv *Server
	ctx context.Context
}

func setup(t *testing.T, cfgs ...Config) bundle {
	t.Helper()
	var cfg Config
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	cfg.SMTPAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	srv := New(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return bundle{srv: srv, ctx: ctx}
}

// client returns a go-mail client for the catcher's SMTP port.
func (b bundle) client(t *testing.T) *mail.Client {
	t.Helper()
	host, port, _ := net.SplitHostPort(b.srv.SMTPAddr())
	p, _ := strconv.Atoi(port)
	c, err := mail.NewClient(host, mail.WithPort(p), mail.WithTLSPolicy(mail.NoTLS),
		mail.WithHELO("client.test"), mail.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newMsg(t *testing.T, from, to, subject string) *mail.Msg {
	t.Helper()
	m := mail.NewMsg()
	if err := m.From(from); err != nil {
		t.Fatal(err)
	}
	if err := m.To(to); err != nil {
		t.Fatal(err)
	}
	m.Subject(subject)
	m.SetBodyString(mail.TypeTextPlain, "Hello "+subject+"\nConfirm: https://nurture.test/confirm?t=abc")
	m.AddAlternativeString(mail.TypeTextHTML, "<p>Hello <b>"+subject+"</b> – café</p>")
	return m
}

// sendOne sends a mail from a@x.test to b@y.test with the subject through
// a client of its own, failing the test on an error.
func (b bundle) sendOne(t *testing.T, subject string) {
	t.Helper()
	if err := b.client(t).DialAndSendWithContext(b.ctx, newMsg(t, "a@x.test", "b@y.test", subject)); err != nil {
		t.Fatal(err)
	}
}

// rawConn speaks SMTP by hand, for what go-mail will not send.
type rawConn struct {
	t *testing.T
	*textproto.Conn
}

func (b bundle) raw(t *testing.T) rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", b.srv.SMTPAddr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	tc := textproto.NewConn(c)
	t.Cleanup(func() { tc.Close() })
	if _, _, err := tc.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	return rawConn{t, tc}
}

// ehlo is raw after EHLO host.
func (b bundle) ehlo(t *testing.T, host string) rawConn {
	t.Helper()
	c := b.raw(t)
	c.expect(250, "EHLO %s", host)
	return c
}

// cmd sends a command and returns the reply code and text.
func (c rawConn) cmd(format string, args ...any) (int, string) {
	c.t.Helper()
	if err := c.PrintfLine(format, args...); err != nil {
		c.t.Fatal(err)
	}
	code, msg, err := c.ReadResponse(0)
	var tpe *textproto.Error
	if err != nil && !errors.As(err, &tpe) {
		c.t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
	return code, msg
}

func (c rawConn) expect(want int, format string, args ...any) string {
	c.t.Helper()
	code, msg := c.cmd(format, args...)
	if code != want {
		c.t.Fatalf("%s: got %d %s, want %d", fmt.Sprintf(format, args...), code, msg, want)
	}
	return msg
}

// send runs one transaction from a@x.test to to, every command taken, and
// expects want as the reply to the message data, given as format and args.
func (c rawConn) send(to string, want int, format string, args ...any) {
	c.t.Helper()
	c.expect(250, "MAIL FROM:<a@x.test>")
	c.expect(250, "RCPT TO:<%s>", to)
	c.expect(354, "DATA")
	c.expect(want, format, args...)
}

func TestSMTP_OneConnectionCarriesManyMessages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	if err := c.DialWithContext(b.ctx); err != nil {
		t.Fatal(err)
	}
	var msgs []*mail.Msg
	for i := range 5 {
		msgs = append(msgs, newMsg(t, "news@acme.test", fmt.Sprintf("lead%d@example.test", i), fmt.Sprintf("Welcome %d", i)))
	}
	if err := c.Send(msgs...); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(newMsg(t, "news@acme.test", "late@example.test", "Later")); err != nil {
		t.Fatal(err)
	}
	c.Close()

	got, err := b.srv.WaitFor(b.ctx, 6)
	if err != nil {
		t.Fatal(err)
	}
	if st := b.srv.Stats(); st.ConnsAccepted != 1 || st.Received != 6 {
		t.Fatalf("stats %+v, want 1 connection and 6 messages", st)
	}
	for i, m := range got[:5] {
		if m.Subject != fmt.Sprintf("Welcome %d", i) {
			t.Errorf("message %d: subject %q (out of order?)", i, m.Subject)
		}
		if m.From != "news@acme.test" || len(m.To) != 1 || m.To[0] != fmt.Sprintf("lead%d@example.test", i) {
			t.Errorf("message %d: envelope %q -> %q", i, m.From, m.To)
		}
		if m.Helo != "client.test" {
			t.Errorf("message %d: HELO %q, want it kept for every message of the connection", i, m.Helo)
		}
		if !strings.Contains(m.HTML, "<b>Welcome") || !strings.Contains(m.HTML, "café") {
			t.Errorf("message %d: HTML part %q", i, m.HTML)
		}
		if !strings.HasPrefix(m.Text, "Hello Welcome") {
			t.Errorf("message %d: text part %q", i, m.Text)
		}
		if m.Header.Get("Message-Id") == "" || len(m.Raw) == 0 || m.ID == "" {
			t.Errorf("message %d: header, raw or ID missing", i)
		}
	}
	if got[5].Subject != "Later" {
		t.Errorf("last subject %q", got[5].Subject)
	}
}

func TestSMTP_RawBytesKeptExactlyWithDotsUnstuffed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := "Subject: dots\r\nFrom: a@x.test\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nnot the end\r\nlast\r\n"
	c, err := mailsmtp.Dial(b.srv.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("<a@x.test>"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("<b@y.test>"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := b.srv.WaitFor(b.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(got[0].Raw) != body {
		t.Fatalf("raw\n%q\nwant\n%q", got[0].Raw, body)
	}
	if got[0].Text != ".leading dot\r\n..two dots\r\n.\r\nnot the end\r\nlast\r\n" {
		t.Errorf("text %q", got[0].Text)
	}
}

func TestSMTP_PipelinedCommandsAnsweredInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.ehlo(t, "pipe.test")
	// Everything up to DATA in one write, as a pipelining client would.
	if _, err := c.W.WriteString("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\n"); err != nil {
		t.Fatal(err)
	}
	c.W.Flush()
	for _, want := range []int{250, 250, 250, 354} {
		if code, msg, err := c.ReadResponse(want); err != nil {
			t.Fatalf("want %d, got %d %s: %v", want, code, msg, err)
		}
	}
	if _, err := c.W.WriteString("Subject: piped\r\n\r\nhi\r\n.\r\nQUIT\r\n"); err != nil {
		t.Fatal(err)
	}
	c.W.Flush()
	if _, _, err := c.ReadResponse(250); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadResponse(221); err != nil {
		t.Fatal(err)
	}
	got, err := b.srv.WaitFor(b.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Subject != "piped" || strings.Join(got[0].To, ",") != "b@y.test,c@y.test" {
		t.Fatalf("got %q to %q", got[0].Subject, got[0].To)
	}
}

func TestSMTP_RsetAbandonsTransactionAndKeepsConnection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.raw(t)
	c.expect(250, "HELO rset.test")
	c.expect(250, "MAIL FROM:<a@x.test>")
	c.expect(250, "RCPT TO:<dropped@y.test>")
	c.expect(250, "RSET")
	c.send("kept@y.test", 250, "Subject: kept\r\n\r\nbody\r\n.")
	c.expect(221, "QUIT")
	got, err := b.srv.WaitFor(b.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || strings.Join(got[0].To, ",") != "kept@y.test" {
		t.Fatalf("got %d messages, to %q", len(got), got[0].To)
	}
}

func TestSMTP_DataWithoutRecipientsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.SetRule(Fail(AtRcpt, Reply{550, "5.1.1", "No such user"}))
	c := b.ehlo(t, "x.test")
	c.expect(250, "MAIL FROM:<a@x.test>")
	c.expect(550, "RCPT TO:<nobody@y.test>")
	c.expect(554, "DATA")
	c.expect(250, "RSET")
	if n := len(b.srv.Messages()); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
}

func TestSMTP_OversizedMessageRefusedAndConnectionKept(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{MaxMessageSize: 100})
	c := b.ehlo(t, "x.test")
	c.send("b@y.test", 552, "Subject: big\r\n\r\n%s\r\n.", strings.Repeat("x", 200))
	c.send("b@y.test", 250, "Subject: small\r\n\r\nok\r\n.")
	got, err := b.srv.WaitFor(b.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Subject != "small" {
		t.Fatalf("got %d messages", len(got))
	}
}

func TestRule_InjectedRepliesAtRcptAndData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rule     Rule
		to       string
		wantCode int
		wantTemp bool
		wantText string
	}{
		{"temporary at RCPT", Fail(AtRcpt, Reply{451, "4.3.0", "Try again later"}, "Busy@Example.test"), "busy@example.test", 451, true, "4.3.0 Try again later"},
		{"permanent at RCPT", Fail(AtRcpt, Reply{550, "5.1.1", "No such user"}, "gone@example.test"), "gone@example.test", 550, false, "5.1.1 No such user"},
		{"temporary after DATA", Fail(AtData, Reply{452, "4.2.2", "Mailbox full"}, "full@example.test"), "full@example.test", 452, true, "4.2.2 Mailbox full"},
		{"permanent after DATA", Fail(AtData, Reply{554, "5.7.1", "Spam"}, "spam@example.test"), "spam@example.test", 554, false, "5.7.1 Spam"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.srv.SetRule(tt.rule)
			c := b.client(t)
			err := c.DialAndSendWithContext(b.ctx,
				newMsg(t, "news@acme.test", tt.to, "refused"),
				newMsg(t, "news@acme.test", "fine@example.test", "accepted"))
			var se *mail.SendError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a SendError", err)
			}
			if se.ErrorCode() != tt.wantCode || se.IsTemp() != tt.wantTemp || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("got code %d temp %v: %v", se.ErrorCode(), se.IsTemp(), err)
			}
			got, err := b.srv.WaitFor(b.ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Subject != "accepted" {
				t.Fatalf("stored %d messages, first %q; want only the accepted one", len(got), got[0].Subject)
			}
		})
	}
}

func TestRule_ClearedRuleAcceptsAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.SetRule(Fail(AtRcpt, Reply{Code: 451, Text: "later"}))
	c := b.ehlo(t, "x.test")
	c.expect(250, "MAIL FROM:<a@x.test>")
	if msg := c.expect(451, "RCPT TO:<b@y.test>"); msg != "later" {
		t.Fatalf("reply text %q", msg)
	}
	b.srv.SetRule(nil)
	c.expect(250, "RCPT TO:<b@y.test>")
}

func TestStopSMTP_RefusesThenStartSMTPServesSameAddress(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addr := b.srv.SMTPAddr()
	idle := b.ehlo(t, "idle.test")

	if err := b.srv.StopSMTP(); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.StopSMTP(); !errors.Is(err, ErrStopped) {
		t.Fatalf("second stop: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("SMTP still accepts connections after StopSMTP")
	}
	if err := idle.PrintfLine("NOOP"); err == nil {
		if _, _, err := idle.ReadResponse(250); err == nil {
			t.Fatal("open connection survived StopSMTP")
		}
	}
	if err := b.client(t).DialAndSendWithContext(b.ctx, newMsg(t, "a@x.test", "b@y.test", "down")); err == nil {
		t.Fatal("send succeeded while SMTP was down")
	}

	if err := b.srv.StartSMTP(); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.StartSMTP(); !errors.Is(err, ErrRunning) {
		t.Fatalf("second start: %v", err)
	}
	if b.srv.SMTPAddr() != addr {
		t.Fatalf("address moved from %s to %s", addr, b.srv.SMTPAddr())
	}
	b.sendOne(t, "up again")
	got, err := b.srv.WaitFor(b.ctx, 1)
	if err != nil || got[0].Subject != "up again" {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestWaitFor_ReturnsWhenMessagesArrive(t *testing.T) {
	t.Parallel()
	b := setup(t)
	type result struct {
		msgs []Message
		err  error
	}
	done := make(chan result, 1)
	go func() {
		msgs, err := b.srv.WaitFor(b.ctx, 3)
		done <- result{msgs, err}
	}()
	c := b.client(t)
	for i := range 3 {
		if err := c.DialAndSendWithContext(b.ctx, newMsg(t, "a@x.test", "b@y.test", strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	r := <-done
	if r.err != nil || len(r.msgs) != 3 {
		t.Fatalf("got %d messages, %v", len(r.msgs), r.err)
	}
}

func TestWaitFor_ContextEndsWithWhatThereIs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sendOne(t, "only")
	if _, err := b.srv.WaitFor(b.ctx, 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 50*time.Millisecond)
	defer cancel()
	got, err := b.srv.WaitFor(ctx, 2)
	if !errors.Is(err, context.DeadlineExceeded) || len(got) != 1 {
		t.Fatalf("got %d messages, %v", len(got), err)
	}
	if !strings.Contains(err.Error(), "waiting for 2 messages, have 1") {
		t.Errorf("error %q does not say what was missing", err)
	}
}

func TestReset_DeletesEverything(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sendOne(t, "x")
	if _, err := b.srv.WaitFor(b.ctx, 1); err != nil {
		t.Fatal(err)
	}
	b.srv.Reset()
	if n := len(b.srv.Messages()); n != 0 {
		t.Fatalf("%d messages after Reset", n)
	}
}

func TestStore_FullStoreDropsOldest(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{MaxMessages: 10})
	c := b.ehlo(t, "x.test")
	for i := range 25 {
		c.send("b@y.test", 250, "Subject: n%d\r\n\r\nbody\r\n.", i)
	}
	got := b.srv.Messages()
	if len(got) > 10 || len(got) < 5 {
		t.Fatalf("kept %d messages, want at most 10", len(got))
	}
	if last := got[len(got)-1].Subject; last != "n24" {
		t.Fatalf("newest is %q, want n24", last)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].Created.After(got[i].Created) {
			t.Fatal("messages out of order")
		}
	}
}

func TestShutdown_EndsIdleConnectionsWith421(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.ehlo(t, "idle.test")
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	start := time.Now()
	if err := b.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("Shutdown waited for an idle connection")
	}
	if code, msg, _ := c.ReadResponse(421); code != 421 {
		t.Fatalf("idle connection got %d %s, want 421", code, msg)
	}
}

func TestShutdown_LetsTransactionFinish(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.ehlo(t, "busy.test")
	c.expect(250, "MAIL FROM:<a@x.test>")
	c.expect(250, "RCPT TO:<b@y.test>")

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		shut <- b.srv.Shutdown(ctx)
	}()
	// Shutdown must not return while the transaction is open.
	for b.srv.draining.Load() == false {
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned mid-transaction: %v", err)
	default:
	}
	c.expect(354, "DATA")
	c.expect(250, "Subject: finished\r\n\r\nbody\r\n.")
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if got := b.srv.Messages(); len(got) != 1 || got[0].Subject != "finished" {
		t.Fatalf("got %d messages", len(got))
	}
}

func TestReadData_LongLinesAndBareLF(t *testing.T) {
	long := strings.Repeat("y", 200<<10)
	tests := map[string]struct{ in, want string }{
		"crlf":         {"a\r\n..b\r\n.\r\n", "a\r\n.b\r\n"},
		"bare lf end":  {"a\n.\n", "a\n"},
		"long line":    {long + "\r\n.\r\n", long + "\r\n"},
		"empty":        {".\r\n", ""},
		"dot mid-line": {"a.b\r\n.c\r\n.\r\n", "a.b\r\nc\r\n"},
	}
	for name, tt := range tests {
		r := bufio.NewReaderSize(strings.NewReader(tt.in), 64<<10)
		got, big, err := readData(r, 1<<20)
		if err != nil || big || got != tt.want {
			t.Errorf("%s: got %q %v %v", name, truncate(got), big, err)
		}
	}
	if _, _, err := readData(bufio.NewReader(strings.NewReader("no end\r\n")), 100); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("unterminated data: %v", err)
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
