// Package dispatch owns the sequence engine: enrolments and their way through
// a sequence's steps. It enrols leads in the sequences whose trigger they
// meet, and its Dispatcher claims the enrolments that are
// due in batches, decides for each whether to stop, exit, skip, wait for the
// send window or send the next step, and writes the step's mail to the
// outbox in the same transaction that advances the enrolment, so a step is
// queued exactly when its enrolment moves past it.
//
// It reads the campaigns through campaign and speaks to the database only
// through store. It never sends SMTP itself (the outbox relay does), and it
// must not import optin or web: the opt-in reaches it through a hook that
// cmd wires.
package dispatch
