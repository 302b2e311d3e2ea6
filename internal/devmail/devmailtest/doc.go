// Package devmailtest owns the mail catcher that tests send to: a devmail
// server on free local ports, started for one test and closed when it
// ends. It is imported by _test.go files only.
package devmailtest
