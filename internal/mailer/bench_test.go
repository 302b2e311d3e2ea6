package mailer

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/nurture/nurture/internal/devmail"
)

// sink starts a catcher that keeps few messages, so a long benchmark does
// not grow memory.
func sink(b *testing.B) *devmail.Server {
	b.Helper()
	srv := devmail.New(devmail.Config{SMTPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", MaxMessages: 1000})
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return srv
}

func benchMessage() Message {
	m := sample()
	m.MessageID = NewMessageID("acme.example")
	return m
}

// BenchmarkPoolSend sends one composed message over and over through a
// Pool from many goroutines, as the outbox relay does.
func BenchmarkPoolSend(b *testing.B) {
	for _, conns := range []int{1, 4} {
		b.Run("conns="+strconv.Itoa(conns), func(b *testing.B) {
			srv := sink(b)
			cfg, err := ParseURL("smtp://" + srv.SMTPAddr())
			if err != nil {
				b.Fatal(err)
			}
			cfg.Conns, cfg.HelloName = conns, "bench.test"
			p := NewPool(cfg, nil)
			defer p.Close(context.Background())
			raw, err := (&Composer{}).Compose(benchMessage())
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.SetBytes(int64(len(raw)))
			b.SetParallelism(conns)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.Send(ctx, "news@acme.example", "anna.schmidt@example.com", raw); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			if st := p.Stats(); st.Dials > int64(conns) {
				b.Errorf("%d dials for %d connections", st.Dials, conns)
			}
		})
	}
}

// BenchmarkBareGoMail is the baseline: one go-mail Client on one
// connection, sending a go-mail Msg in a loop the way its documentation
// shows.
func BenchmarkBareGoMail(b *testing.B) {
	srv := sink(b)
	host, port, _ := net.SplitHostPort(srv.SMTPAddr())
	portNum, _ := strconv.Atoi(port)
	client, err := gomail.NewClient(host, gomail.WithPort(portNum), gomail.WithTLSPolicy(gomail.NoTLS),
		gomail.WithHELO("bench.test"), gomail.WithTimeout(30*time.Second))
	if err != nil {
		b.Fatal(err)
	}
	if err := client.DialWithContext(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	m := benchMessage()
	msg := gomail.NewMsg()
	if err := msg.From(m.From); err != nil {
		b.Fatal(err)
	}
	if err := msg.To(m.To); err != nil {
		b.Fatal(err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	b.ResetTimer()
	for b.Loop() {
		if err := client.Send(msg); err != nil {
			b.Fatal(fmt.Errorf("bare go-mail send: %w", err))
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
