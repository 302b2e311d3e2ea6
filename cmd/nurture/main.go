package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type command struct {
	name, usage, summary string
	run                  func(ctx context.Context, args []string, stdout io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "serve [--fast]", "run the HTTP server, the outbox and the scheduler", runServe},
		{"migrate", "migrate", "apply pending database migrations and exit", runMigrate},
		{"campaigns", "campaigns check|preview|timeline|send-test …", "validate, preview, time and test-send the campaign files", runCampaigns},
		{"scores", "scores explain EMAIL | recompute", "explain a lead's score; replay every score under scoring.yaml", runScores},
		{"report", "report engagement [--sequence S] [--since DAY]", "opens and clicks per step and link, raw beside counted", runReport},
		{"devmail", "devmail [--smtp ADDR] [--http ADDR]", "run the mail catcher (SMTP 127.0.0.1:1025, web 127.0.0.1:8025)", runDevmail},
		{"version", "version", "print the version", func(_ context.Context, _ []string, w io.Writer) error {
			_, err := fmt.Fprintln(w, "nurture", version)
			return err
		}},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Nurture: double opt-in email nurturing and drip campaigns.")
	fmt.Fprintln(w, "\nUsage: nurture <command> [arguments]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-46s %s\n", c.usage, c.summary)
	}
	fmt.Fprintf(w, "  %-46s %s\n", "help", "show this list")
	fmt.Fprintln(w, "\nSettings come from NURTURE_* environment variables; see README.md.")
}

func main() { os.Exit(runCommand(os.Args[1:], os.Stdout, os.Stderr)) }

// runCommand runs the command args names with the rest of args and returns
// the process's exit status: 2 for an unknown command.
func runCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := c.run(ctx, args[1:], stdout)
		stop()
		return exitStatus(c.name, err, stderr)
	}
	fmt.Fprintf(stderr, "nurture: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// exitStatus is the process's exit status after a command returned err,
// which it reports on stderr; an exitCode is not reported.
func exitStatus(command string, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	fmt.Fprintln(stderr, "nurture "+command+":", err)
	return 1
}

// exitCode is an error that only sets the exit status (the command printed
// its own report).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newLogger() *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("NURTURE_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
