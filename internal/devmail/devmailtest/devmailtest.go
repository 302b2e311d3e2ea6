package devmailtest

import (
	"context"
	"testing"

	"github.com/nurture/nurture/internal/devmail"
)

// Start starts a mail catcher with its SMTP and HTTP listeners on free
// ports of 127.0.0.1, closed when the test ends.
func Start(t testing.TB) *devmail.Server {
	t.Helper()
	mail := devmail.New(devmail.Config{SMTPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
	if err := mail.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mail.Close() })
	return mail
}
