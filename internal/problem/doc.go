// Package problem owns what is common to the messages about a marketer's
// file: for now the guess at what a misspelt word was meant to be, the
// "did you mean …?" of every message from a key of the front matter to a
// placeholder's field or a condition's name.
//
// It is pure, imports nothing from Nurture and knows no words of its own:
// the caller gives the candidates.
package problem
