package optin

import (
	"strings"
	"testing"
)

func TestWrap_FillsLongLinesEvenlyAndKeepsTheTemplatesBreaks(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"short lines stay", "Hi Anna,\n\nBest,\nJonas", "Hi Anna,\n\nBest,\nJonas"},
		{"a long line fills to the width",
			"aaa bbb ccc ddd eee fff ggg",
			"aaa bbb\nccc ddd\neee fff\nggg"},
		{"a word longer than the width gets a line of its own",
			"go to https://example.com/confirm/abcdefghijkl now",
			"go to\nhttps://example.com/confirm/abcdefghijkl\nnow"},
		{"a list item's lines hang under its text",
			"- aaa bbb ccc ddd",
			"- aaa bbb\n  ccc ddd"},
		{"an indented line keeps its indent", "  aaa bbb ccc", "  aaa bbb\n  ccc"},
		{"width counts characters, not bytes", "äää ööö üüü", "äää ööö\nüüü"},
		{"trailing spaces go", "aaa   \nbbb", "aaa\nbbb"},
	}
	for _, tt := range tests {
		if got := wrap(tt.in, 10); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestWrap_NoLineOverTheWidthUnlessOneWord(t *testing.T) {
	in := strings.Repeat("Please confirm that you want to receive mail from Nurture Demo GmbH. ", 20)
	for _, line := range strings.Split(wrap(in, textWidth), "\n") {
		if len([]rune(line)) > textWidth && strings.Contains(line, " ") {
			t.Fatalf("line of %d characters: %q", len([]rune(line)), line)
		}
	}
}
