// Package condition owns the condition language of the campaign files,
// the `if:` of a step: the names a condition may use about a lead (score,
// fit, engagement, temperature, stage, source, attr, events,
// days_since_signup, opened(), clicked(), clicked_url() and number()), the
// checks that a condition names steps that exist and come before it, the
// warnings for what compiles but cannot work as meant, and the translation of the expression library's errors
// into the words of the marketers' guide (campaigns/README.md, Conditions).
//
// It is pure: it never reads a file, the database or a clock. What a
// condition asks about a lead comes in through Facts, which the sequence
// engine implements and which is asked only for what the condition uses.
// Package campaign compiles each step's condition with it and reports the
// problems at the step's file and line.
//
// The language is meant to be shared: scoring.yaml's expressions use
// stage, source, attr, events, days_since_signup and number() with the
// same meaning, so MatchURL and Explain are exported for them (number() is lead.Number).
package condition
