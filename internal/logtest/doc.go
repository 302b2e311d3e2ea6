// Package logtest owns the log a test reads back while the code under test
// writes to it from goroutines of its own: a Buffer for a slog handler, a
// child process's output or anything else that writes text. It is imported
// by _test.go files only.
package logtest
