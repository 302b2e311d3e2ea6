// Package dispatch owns the enrolments of leads in sequences: it enrols a
// lead in the sequences whose trigger it meets, and its Dispatcher walks
// each enrolment that falls due through its steps (stop, exit, skip, wait
// for the send window, or send the next step), writing the step's mail to
// the outbox in the same transaction that advances the enrolment, so a step
// is queued exactly when its enrolment moves past it. Conditions and exits
// read the leads' facts (lead_facts), never their events. A tracked lead's
// mail is rewritten with tracking.Rewrite for the id it will have in the
// outbox, reserved before it is composed, and its links are stored once per
// distinct set (link_sets), so a mail composed again after a crash is the
// same, byte for byte.
//
// It reads the campaigns through campaign and the database through the
// small Store it declares, which *store.Store satisfies. It never sends
// SMTP itself, and it imports no other service (optin, outbox) and not
// web: it hands mail to a handover.Sender, which cmd lends the outbox
// relay, and the opt-in reaches it through a hook that cmd wires.
package dispatch
