// Package schedule owns the arithmetic of when a mail goes out: send
// windows ("Mon-Fri 09:00-17:00", read on a lead's wall clock, across the
// changes to and from summer time), delays ("1d12h", whose days are
// calendar days), and the plan that applies them in turn to the mails of
// a sequence.
//
// It is pure: it knows time and time zones only, never the campaign files,
// the database or a clock of its own; every instant comes in as an
// argument. Package campaign parses the files' send_window and delay keys
// with it, and the sequence engine asks it when a step is due.
package schedule
