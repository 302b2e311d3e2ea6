// Package scoring owns campaigns/scoring.yaml and the arithmetic of lead
// scores: it parses and validates the file into Rules, with problems
// reported as path:line: message, and computes from them the engagement
// points of a signal (with URL globs and daily caps), the fit points of a
// lead, engagement decay over time, the temperature band, whether the MQL
// rule holds, and the sales team a lead is routed to. Every result carries
// its reasons (the rule, the signal, the points), which become the rows of
// the score ledger.
//
// It is pure: no database, no HTTP, no clock of its own (every time is
// passed in) and no environment (a webhook secret is looked up through a
// function the caller passes). It imports none of Nurture's services.
//
// The expressions (mql, fit and route conditions) are the language of the
// sequence conditions, with the variables score, fit, engagement and
// temperature added. This package builds its own environment of the same
// variables (stage, source, attr, events, days_since_signup, number()) and
// shares number() (lead.Number) and the URL glob (condition.MatchURL) with
// package condition, so a change to the condition variables must be made to
// both. Its problems are problem.Problem, as the campaign files' are.
package scoring
