// Package campaign owns the marketers' campaign files: it parses
// campaigns/<sequence>/sequence.md and the NN-slug.md steps beside it into
// validated Sequences and Steps, compiles their conditions, renders each
// step's Markdown once into cached HTML and plain-text templates, and
// executes those per lead inside a layout. It also knows send windows,
// delays and the resulting timeline, and keeps the current valid Set in a
// Library that reloads on edits, keeps the last good version when an edit
// is broken, and says what each reload changed.
//
// It is pure: it reads files and templates, but never the database, HTTP or
// SMTP. What a condition needs to know about a lead comes in through the
// Facts interface, which the sequence engine implements.
package campaign
