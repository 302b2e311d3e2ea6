// Package outboxtest owns running a relay for one test: Run in the
// background from the test's start to its end. It is imported by _test.go
// files only.
package outboxtest
