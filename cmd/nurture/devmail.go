package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nurture/nurture/internal/devmail"
)

func runDevmail(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("devmail", flag.ContinueOnError)
	smtpAddr := flags.String("smtp", "127.0.0.1:1025", "SMTP listen address")
	httpAddr := flags.String("http", "127.0.0.1:8025", "web page and MailHog API listen address")
	if err := flags.Parse(args); err != nil {
		return err
	}
	srv := devmail.New(devmail.Config{SMTPAddr: *smtpAddr, HTTPAddr: *httpAddr, Logger: newLogger()})
	if err := srv.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "mail catcher: SMTP on %s, caught mail at %s\n", srv.SMTPAddr(), srv.HTTPURL())
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
