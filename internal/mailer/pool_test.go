package mailer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/devmail"
)

type bundle struct {
	ctx     context.Context
	catcher *devmail.Server
	cfg     Config // for the catcher, before edits
}

// send sends a test mail from news@acme.example to one address through p.
func (b bundle) send(t *testing.T, p *Pool, to string) error {
	t.Helper()
	return p.Send(b.ctx, "news@acme.example", to, raw(t, to))
}

// sendAsync is send in a goroutine of its own; its error comes on the
// channel.
func (b bundle) sendAsync(t *testing.T, p *Pool, to string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- b.send(t, p, to) }()
	return done
}

// mustSend is send that fails the test on an error.
func (b bundle) mustSend(t *testing.T, p *Pool, to string) {
	t.Helper()
	if err := b.send(t, p, to); err != nil {
		t.Fatal(err)
	}
}

// stopSMTP stops the catcher's SMTP server, as a server going down does.
func (b bundle) stopSMTP(t *testing.T) {
	t.Helper()
	if err := b.catcher.StopSMTP(); err != nil {
		t.Fatal(err)
	}
}

// startSMTP starts the catcher's SMTP server again on its address.
func (b bundle) startSMTP(t *testing.T) {
	t.Helper()
	if err := b.catcher.StartSMTP(); err != nil {
		t.Fatal(err)
	}
}

func setup(t *testing.T) bundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	catcher := devmail.New(devmail.Config{SMTPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
	if err := catcher.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { catcher.Close() })
	cfg, err := ParseURL("smtp://" + catcher.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	cfg.HelloName = "nurture.test"
	cfg.Timeout = 5 * time.Second
	return bundle{ctx: ctx, catcher: catcher, cfg: cfg}
}

func (b bundle) pool(t *testing.T, edit ...func(*Config)) *Pool {
	t.Helper()
	cfg := b.cfg
	for _, e := range edit {
		e(&cfg)
	}
	p := NewPool(cfg, nil)
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func (b bundle) wait(t *testing.T, n int) []devmail.Message {
	t.Helper()
	msgs, err := b.catcher.WaitFor(b.ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// raw composes a small mail to the address.
func raw(t *testing.T, to string) []byte {
	t.Helper()
	m := sample()
	m.To = to
	m.MessageID = NewMessageID("acme.example")
	return mustCompose(t, &Composer{}, m)
}

// callerSeesTemporary asks err what a caller that only knows the
// Temporary() convention would (the outbox does that).
func callerSeesTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func TestPool_SendsTheExactBytes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := dkimComposer(t, rsaKeyPEM(t))
	mail, err := c.Compose(sample())
	if err != nil {
		t.Fatal(err)
	}
	p := b.pool(t)
	if err := p.Send(b.ctx, "Acme News <news@acme.example>", "Anna <anna.schmidt@example.com>", mail); err != nil {
		t.Fatal(err)
	}
	got := b.wait(t, 1)[0]
	if string(got.Raw) != string(mail) {
		t.Fatalf("received bytes differ:\n%q\nwant\n%q", got.Raw, mail)
	}
	if got.From != "news@acme.example" || len(got.To) != 1 || got.To[0] != "anna.schmidt@example.com" {
		t.Fatalf("envelope %q -> %q", got.From, got.To)
	}
	if got.Helo != "nurture.test" {
		t.Errorf("EHLO %q", got.Helo)
	}
	if got.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" ||
		!strings.HasPrefix(got.Header.Get("List-Unsubscribe"), "<https://acme.example/unsubscribe/tok123>, <mailto:") {
		t.Errorf("unsubscribe headers %q / %q", got.Header.Get("List-Unsubscribe"), got.Header.Get("List-Unsubscribe-Post"))
	}
	if got.Subject != "Willkommen, Anna – your e-book" || !strings.Contains(got.HTML, "<b>Anna</b>") || !strings.Contains(got.Text, "Hello Anna") {
		t.Errorf("decoded %q / %q / %q", got.Subject, got.HTML, got.Text)
	}
	verifyDKIM(t, got.Raw, rsaKeyPEM(t))
	if st := p.Stats(); st.Sent != 1 || st.Dials != 1 || st.Open != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestPool_ReusesOneConnectionForSequentialSends(t *testing.T) {
	t.Parallel()
	b, p := setupPool(t, func(c *Config) { c.Conns = 4 })
	for i := range 30 {
		if err := p.Send(b.ctx, "news@acme.example", fmt.Sprintf("lead%d@example.com", i), raw(t, "x@example.com")); err != nil {
			t.Fatal(err)
		}
	}
	b.wait(t, 30)
	if st := b.catcher.Stats(); st.ConnsAccepted != 1 {
		t.Fatalf("catcher saw %d connections for 30 sequential sends, want 1", st.ConnsAccepted)
	}
}

func TestPool_ConcurrentSendsUseAtMostConnsConnections(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var inFlight, most atomic.Int64
	b.catcher.SetRule(func(stage devmail.Stage, _, _ string) *devmail.Reply {
		if stage == devmail.AtRcpt {
			n := inFlight.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
		} else {
			inFlight.Add(-1)
		}
		return nil
	})
	p := b.pool(t, func(c *Config) { c.Conns = 3 })
	const senders, each = 12, 10
	var wg sync.WaitGroup
	errs := make(chan error, senders*each)
	mail := raw(t, "x@example.com")
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				errs <- p.Send(b.ctx, "news@acme.example", fmt.Sprintf("s%d-%d@example.com", s, i), mail)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := b.wait(t, senders*each)
	seen := map[string]bool{}
	for _, m := range got {
		seen[m.To[0]] = true
	}
	if len(seen) != senders*each {
		t.Fatalf("%d distinct recipients of %d", len(seen), senders*each)
	}
	if st := b.catcher.Stats(); st.ConnsAccepted > 3 {
		t.Errorf("catcher saw %d connections, want at most 3", st.ConnsAccepted)
	}
	if most.Load() > 3 {
		t.Errorf("%d transactions at once, want at most 3", most.Load())
	}
	if st := p.Stats(); st.Sent != senders*each || st.Dials > 3 {
		t.Errorf("pool stats %+v", st)
	}
}

func TestPool_RefusalsAreSMTPErrorsAndKeepTheConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		stage     devmail.Stage
		reply     devmail.Reply
		command   string
		permanent bool
	}{
		{"451 at RCPT", devmail.AtRcpt, devmail.Reply{Code: 451, Enhanced: "4.3.0", Text: "Try again later"}, "RCPT", false},
		{"452 after DATA", devmail.AtData, devmail.Reply{Code: 452, Enhanced: "4.2.2", Text: "Mailbox full"}, "DATA", false},
		{"550 at RCPT", devmail.AtRcpt, devmail.Reply{Code: 550, Enhanced: "5.1.1", Text: "No such user"}, "RCPT", true},
		{"554 after DATA", devmail.AtData, devmail.Reply{Code: 554, Enhanced: "5.7.1", Text: "Rejected as spam"}, "DATA", true},
		{"550 without enhanced code", devmail.AtRcpt, devmail.Reply{Code: 550, Text: "Unknown"}, "RCPT", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.catcher.SetRule(devmail.Fail(tt.stage, tt.reply, "refused@example.com"))
			p := b.pool(t)
			err := b.send(t, p, "refused@example.com")
			var se *SMTPError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want an *SMTPError", err)
			}
			if se.Code != tt.reply.Code || se.Enhanced != tt.reply.Enhanced || se.Message != tt.reply.Text || se.Command != tt.command {
				t.Fatalf("got %+v", se)
			}
			if Permanent(err) != tt.permanent || se.Temporary() == tt.permanent || callerSeesTemporary(err) == tt.permanent {
				t.Fatalf("permanent=%v temporary=%v, want permanent %v", Permanent(err), se.Temporary(), tt.permanent)
			}
			if errors.Is(err, ErrUnavailable) {
				t.Fatal("a refusal reported as unavailable")
			}
			// The same connection carries the next message.
			b.mustSend(t, p, "fine@example.com")
			if got := b.wait(t, 1); len(got) != 1 || got[0].To[0] != "fine@example.com" {
				t.Fatalf("caught %d", len(got))
			}
			if n := b.catcher.Stats().ConnsAccepted; n != 1 {
				t.Fatalf("%d connections, want the refused one kept", n)
			}
		})
	}
}

func TestClassify_RepliesAndBrokenConnections(t *testing.T) {
	refused := func(code int, msg string) error { return &textproto.Error{Code: code, Msg: msg} }
	tests := []struct {
		name        string
		command     string
		err         error
		broken      bool
		permanent   bool
		unavailable bool
	}{
		{"5xx to MAIL refuses the sender, not the lead", "MAIL", refused(550, "5.7.1 Relaying denied"), false, false, false},
		{"530 to MAIL", "MAIL", refused(530, "5.7.0 Authentication required"), false, false, false},
		{"5xx to RCPT", "RCPT", refused(550, "5.1.1 No such user"), false, true, false},
		{"4xx to RCPT", "RCPT", refused(450, "4.2.0 Greylisted"), false, false, false},
		{"421 closes the connection", "RCPT", refused(421, "4.3.2 Shutting down"), true, false, true},
		{"odd code", "DATA", refused(354, "go ahead"), true, false, true},
		{"refused connection", "MAIL", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true, false, true},
		{"EOF", "DATA", io.EOF, true, false, true},
	}
	for _, tt := range tests {
		err, broken := classify(tt.command, tt.err)
		if broken != tt.broken || Permanent(err) != tt.permanent || errors.Is(err, ErrUnavailable) != tt.unavailable ||
			callerSeesTemporary(err) == tt.permanent {
			t.Errorf("%s: %v broken=%v permanent=%v", tt.name, err, broken, Permanent(err))
		}
	}
	var se *SMTPError
	err, _ := classify("RCPT", refused(550, "5.1.1 No such\nuser here"))
	if !errors.As(err, &se) || se.Enhanced != "5.1.1" || se.Message != "No such user here" ||
		err.Error() != "mailer: SMTP RCPT refused: 550 5.1.1 No such user here" {
		t.Errorf("parsed %+v: %v", se, err)
	}
}

func TestPool_ServerDownIsUnavailableAndSendingResumesAfter(t *testing.T) {
	t.Parallel()
	b, p := setupPool(t)
	b.mustSend(t, p, "before@example.com")
	b.stopSMTP(t)
	// The pooled connection is dead and no new one can be made.
	err := b.send(t, p, "during@example.com")
	if !errors.Is(err, ErrUnavailable) || Permanent(err) || !callerSeesTemporary(err) {
		t.Fatalf("server down: %v (permanent %v)", err, Permanent(err))
	}
	if !strings.Contains(err.Error(), "smtp://127.0.0.1:") {
		t.Errorf("error %q does not name the server", err)
	}
	err = b.send(t, p, "during@example.com")
	if !errors.Is(err, ErrUnavailable) || callerSeesTemporary(err) != true {
		t.Fatalf("still down: %v", err)
	}
	b.startSMTP(t)
	b.mustSend(t, p, "after@example.com")
	got := b.wait(t, 2)
	if got[1].To[0] != "after@example.com" {
		t.Fatalf("got %q", got[1].To)
	}
	if st := p.Stats(); st.Open != 1 {
		t.Errorf("%d connections open, want the dead ones dropped", st.Open)
	}
}

func TestPool_StaleIdleConnectionIsRedialled(t *testing.T) {
	t.Parallel()
	b, p := setupPool(t)
	b.mustSend(t, p, "one@example.com")
	// A restart cuts the idle pooled connection, as a server's idle
	// timeout would.
	b.stopSMTP(t)
	b.startSMTP(t)
	if err := b.send(t, p, "two@example.com"); err != nil {
		t.Fatalf("send on a stale pooled connection: %v", err)
	}
	if got := b.wait(t, 2); got[1].To[0] != "two@example.com" {
		t.Fatalf("got %q", got[1].To)
	}
	if st := p.Stats(); st.Dials != 2 {
		t.Errorf("%d dials, want 2", st.Dials)
	}
}

func TestPool_StartTLSRequiredRefusesAPlainServer(t *testing.T) {
	t.Parallel()
	b, p := setupPool(t, func(c *Config) { c.TLS = StartTLSRequired })
	err := b.send(t, p, "a@example.com")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "STARTTLS") || Permanent(err) {
		t.Fatalf("got %v", err)
	}
	if n := len(b.catcher.Messages()); n != 0 {
		t.Fatalf("%d messages went out in the clear", n)
	}
	eventually(t, "the refused connection is closed", func() bool { return b.catcher.Stats().ConnsOpen == 0 })
}

func TestPool_AuthenticatesWithCredentialsFromTheURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cfg, err := ParseURL("smtp://nurture:s3cret@" + b.catcher.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	p := b.pool(t, func(c *Config) { c.Username, c.Password = cfg.Username, cfg.Password })
	b.mustSend(t, p, "a@example.com")
	b.wait(t, 1)
}

func TestPool_ImplicitTLS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addr, roots := tlsFront(t, b.catcher.SMTPAddr())
	cfg, err := ParseURL("smtps://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	p := b.pool(t, func(c *Config) {
		c.TLS, c.Port = cfg.TLS, cfg.Port
		c.TLSConfig = &tls.Config{RootCAs: roots}
	})
	b.mustSend(t, p, "a@example.com")
	b.wait(t, 1)

	untrusting := b.pool(t, func(c *Config) { c.TLS, c.Port = cfg.TLS, cfg.Port })
	if err := b.send(t, untrusting, "a@example.com"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unknown certificate accepted: %v", err)
	}
}

func TestPool_RateLimitSpacesMessages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if p := b.pool(t); p.limiter != nil {
		t.Fatal("Rate 0 is limited")
	}
	p := b.pool(t, func(c *Config) { c.Rate, c.Conns = 200, 4 })
	if p.limiter.Limit() != 200 || p.limiter.Burst() != 1 {
		t.Fatalf("limiter %v/s burst %d", p.limiter.Limit(), p.limiter.Burst())
	}
	const n = 9
	mail := raw(t, "x@example.com")
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := p.Send(b.ctx, "news@acme.example", fmt.Sprintf("r%d@example.com", i), mail); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Nine messages at 200/s with a burst of one take at least 8 × 5 ms,
	// however many connections there are.
	if elapsed := time.Since(start); elapsed < 40*time.Millisecond {
		t.Fatalf("%d messages in %v: faster than 200/s", n, elapsed)
	}
	b.wait(t, n)
}

func TestPool_WaitingSendGivesUpWithItsContext(t *testing.T) {
	t.Parallel()
	b, p, first, release := setupHeldSend(t, "slow@example.com", func(c *Config) { c.Conns = 1 })
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Millisecond)
	defer cancel()
	err := p.Send(ctx, "news@acme.example", "queued@example.com", raw(t, "queued@example.com"))
	if !errors.Is(err, context.DeadlineExceeded) || Permanent(err) {
		t.Fatalf("got %v", err)
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}

func TestPool_CloseLetsTransactionsFinishThenRefuses(t *testing.T) {
	t.Parallel()
	b, p, inFlight, release := setupHeldSend(t, "inflight@example.com", func(c *Config) { c.Conns = 1 })
	waiting := b.sendAsync(t, p, "waiting@example.com")

	closed := make(chan error, 1)
	go func() { closed <- p.Close(b.ctx) }()
	if err := <-waiting; !errors.Is(err, ErrClosed) {
		t.Fatalf("a send waiting for a connection got %v, want ErrClosed", err)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned while a transaction was under way: %v", err)
	default:
	}
	release()
	if err := <-inFlight; err != nil {
		t.Fatalf("the transaction under way failed: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if got := b.catcher.Messages(); len(got) != 1 || got[0].To[0] != "inflight@example.com" {
		t.Fatalf("caught %d", len(got))
	}
	if err := b.send(t, p, "late@example.com"); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after Close: %v", err)
	}
	if st := p.Stats(); st.Open != 0 {
		t.Fatalf("%d connections open after Close", st.Open)
	}
	eventually(t, "the catcher sees the connection QUIT", func() bool { return b.catcher.Stats().ConnsOpen == 0 })
	if err := p.Close(b.ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestPool_CloseGivesUpWithItsContext(t *testing.T) {
	t.Parallel()
	b, p, inFlight, release := setupHeldSend(t, "inflight@example.com")
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v", err)
	}
	release()
	if err := <-inFlight; err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Open != 0 {
		t.Fatalf("%d connections open: the late transaction's connection was not QUIT", st.Open)
	}
}

func TestPool_BadAddresses(t *testing.T) {
	t.Parallel()
	b, p := setupPool(t)
	err := p.Send(b.ctx, "news@acme.example", "not an address", raw(t, "x@example.com"))
	if !errors.Is(err, ErrInvalidAddress) || !Permanent(err) || callerSeesTemporary(err) {
		t.Fatalf("bad recipient: %v", err)
	}
	err = p.Send(b.ctx, "acme", "a@example.com", raw(t, "a@example.com"))
	if err == nil || Permanent(err) {
		t.Fatalf("bad sender: %v (a sender problem must not bounce the lead)", err)
	}
	if st := b.catcher.Stats(); st.ConnsAccepted != 0 {
		t.Fatal("dialled for an invalid address")
	}
}

// setupHeldSend is setupPool with a send to to under way, which the
// catcher holds after its data until release is called; the send's error
// comes on the channel.
func setupHeldSend(t *testing.T, to string, edit ...func(*Config)) (bundle, *Pool, <-chan error, func()) {
	t.Helper()
	b := setup(t)
	entered, release := blockAtData(t, b.catcher)
	p := b.pool(t, edit...)
	sent := b.sendAsync(t, p, to)
	<-entered
	return b, p, sent, release
}

// blockAtData makes the catcher hold every transaction after its data
// until release is called; entered receives when one is held.
func blockAtData(t *testing.T, catcher *devmail.Server) (entered chan struct{}, release func()) {
	entered, gate := make(chan struct{}, 16), make(chan struct{})
	release = sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release) // a failing test must not leave the catcher stuck
	catcher.SetRule(func(stage devmail.Stage, _, _ string) *devmail.Reply {
		if stage == devmail.AtData {
			entered <- struct{}{}
			<-gate
		}
		return nil
	})
	return entered, release
}

// eventually waits for something another goroutine does with no signal to
// wait on, such as a server noticing a closed connection.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// tlsFront serves TLS on a new port and relays to addr in the clear, like
// a TLS-terminating proxy in front of the catcher. It returns the port's
// address and a pool that trusts its certificate.
func tlsFront(t *testing.T, addr string) (string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { io.Copy(up, c); up.Close() }()
				io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String(), roots
}

// setupPool is setup with a pool on its catcher, edited by edit.
func setupPool(t *testing.T, edit ...func(*Config)) (bundle, *Pool) {
	t.Helper()
	b := setup(t)
	return b, b.pool(t, edit...)
}
