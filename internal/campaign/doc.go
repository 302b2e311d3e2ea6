// Package campaign owns the marketers' campaign files: it parses
// campaigns/<sequence>/sequence.md with the NN-slug.md steps beside it,
// and the signup forms in campaigns/forms/, into a validated Set of
// Sequences, Steps and Forms, with every problem reported as
// path:line: message. It keeps the current valid Set of a running server
// live (Library, Live): reloaded on every edit and on SIGHUP, the last
// good version kept when an edit is broken, and each reload's changes
// logged.
//
// The jobs around the files are packages of their own, which it calls
// while loading: render turns a step's Markdown into templates and fills
// them in per lead, condition compiles a step's if:, schedule reads send
// windows and delays, and typo guesses what a misspelt word was meant to
// be. What the marketers' commands print is cmd/nurture's.
//
// It is pure: it reads files and templates, but never the database, HTTP
// or SMTP. What a condition needs to know about a lead comes in through
// the Facts interface, which the sequence engine implements.
package campaign
