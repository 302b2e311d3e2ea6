// Package typo owns the guess at what a misspelt word was meant to be: the
// "did you mean …?" of every message about a marketer's file, from a key
// of the front matter to a placeholder's field or a condition's name.
//
// It is pure and knows no words of its own: the caller gives the
// candidates.
package typo
