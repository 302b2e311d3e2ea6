package tracking

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// text rewrites the addresses in the plain-text part. An address starts
// with http:// or https:// and runs to a space, a line end, <, > or ". What
// usually follows an address in a sentence is not part of it: a full stop,
// comma or other closing punctuation, and a closing bracket that the address
// does not open itself (so "(see https://a.example/x)" keeps its bracket and
// https://en.wikipedia.org/wiki/Go_(language) keeps its own).
func (rw *rewriter) text(s string) string {
	var out strings.Builder
	out.Grow(len(s) + len(s)/4)
	for {
		i := urlStart(s)
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		n := urlLen(s[i:])
		u := s[i : i+n]
		out.WriteString(s[:i])
		if rw.track(u) {
			out.WriteString(rw.click(u, ""))
		} else {
			out.WriteString(u)
		}
		s = s[i+n:]
	}
}

// urlStart finds the next http:// or https:// (in any case) that begins a
// word, or -1. It compares bytes, so that invalid UTF-8 keeps its offsets.
func urlStart(s string) int {
	for at := 0; at < len(s); at++ {
		if s[at] != 'h' && s[at] != 'H' {
			continue
		}
		if (hasPrefixFold(s[at:], "http://") || hasPrefixFold(s[at:], "https://")) && wordStart(s, at) {
			return at
		}
	}
	return -1
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func wordStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// urlLen is the length of the address at the start of s.
func urlLen(s string) int {
	n := strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '<' || r == '>' || r == '"'
	})
	if n < 0 {
		n = len(s)
	}
	for n > 0 {
		last := s[n-1]
		switch {
		case strings.IndexByte(".,;:!?'*_", last) >= 0:
			n--
			continue
		case last == ')' && unbalanced(s[:n], '(', ')'),
			last == ']' && unbalanced(s[:n], '[', ']'),
			last == '}' && unbalanced(s[:n], '{', '}'):
			n--
			continue
		}
		break
	}
	return n
}

// unbalanced reports whether s closes more brackets than it opens.
func unbalanced(s string, open, close byte) bool {
	return strings.Count(s, string(close)) > strings.Count(s, string(open))
}
