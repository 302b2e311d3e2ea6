package tracking

import (
	"errors"
	"strings"
	"testing"
)

func testSigner() *Signer { return NewSigner([]byte(strings.Repeat("s", 32))) }

func TestToken_RoundTripsEveryKind(t *testing.T) {
	s := testSigner()
	tests := []struct {
		tok  string
		want Ref
	}{
		{s.Open(1), Ref{Kind: KindOpen, Message: 1}},
		{s.Click(42, 3), Ref{Kind: KindClick, Message: 42, Link: 3}},
		{s.Click(1<<62, 1<<30), Ref{Kind: KindClick, Message: 1 << 62, Link: 1 << 30}},
		{s.Honeypot(7), Ref{Kind: KindHoneypot, Message: 7}},
		{s.Site(11), Ref{Kind: KindSite, Message: 11}},
	}
	for _, tt := range tests {
		got, err := s.Parse(tt.tok)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.tok, got, err, tt.want)
		}
		if strings.ContainsAny(tt.tok, "+/=.") || len(tt.tok) > 40 {
			t.Errorf("token %q is not short base64url", tt.tok)
		}
	}
}

func TestToken_DeterministicAndDistinct(t *testing.T) {
	s := testSigner()
	if s.Click(42, 3) != testSigner().Click(42, 3) || s.Open(42) != testSigner().Open(42) || s.Honeypot(42) != testSigner().Honeypot(42) {
		t.Fatal("the same message and link gave different tokens")
	}
	seen := map[string]string{}
	for name, tok := range map[string]string{
		"open 42": s.Open(42), "honeypot 42": s.Honeypot(42), "site 42": s.Site(42), "click 42/1": s.Click(42, 1),
		"click 42/2": s.Click(42, 2), "click 43/1": s.Click(43, 1), "open 43": s.Open(43),
	} {
		if other, dup := seen[tok]; dup {
			t.Errorf("%s and %s share the token %q", name, other, tok)
		}
		seen[tok] = name
	}
}

func TestToken_TamperedIsInvalid(t *testing.T) {
	s := testSigner()
	tok := s.Click(42, 3)
	flip := func(i int) string {
		b := []byte(tok)
		b[i] = "AB"[b[i]%2]
		if b[i] == tok[i] {
			b[i] = 'C'
		}
		return string(b)
	}
	tests := map[string]string{
		"empty":            "",
		"first char":       flip(0),
		"middle char":      flip(len(tok) / 2),
		"last char":        flip(len(tok) - 1),
		"cut short":        tok[:len(tok)-2],
		"extra char":       tok + "A",
		"padding":          tok + "==",
		"other secret":     NewSigner([]byte("another secret")).Click(42, 3),
		"not base64":       "!!!!!!!!!!!!!!!!!!!!",
		"very long":        strings.Repeat("A", 500),
		"open as click":    s.Open(42)[:4] + tok[4:],
		"standard base64+": strings.ReplaceAll(tok, "-", "+"),
	}
	for name, bad := range tests {
		if bad == tok {
			continue
		}
		if _, err := s.Parse(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Parse(%q) err = %v, want ErrInvalidToken", name, bad, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	s := testSigner()
	f.Add(s.Open(1))
	f.Add(s.Click(42, 3))
	f.Add(s.Honeypot(9))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		r, err := s.Parse(tok)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Parse(%q) err = %v, not ErrInvalidToken", tok, err)
			}
			return
		}
		// Whatever parses is exactly what the signer makes for it.
		if s.sign(r) != tok {
			t.Fatalf("Parse(%q) = %+v, which signs as %q", tok, r, s.sign(r))
		}
		if r.Message < 0 || r.Link < 0 || (r.Kind != KindClick && r.Link != 0) {
			t.Fatalf("Parse(%q) = %+v: impossible ref", tok, r)
		}
	})
}

// A token whose MAC is right but whose spelling is not the signer's own (a
// newline, which base64 decoding skips; a varint longer than it need be;
// stray bits in the last character) has another spelling, and is invalid.
func TestToken_OnlyTheCanonicalSpellingIsValid(t *testing.T) {
	s := testSigner()
	tok := s.Click(42, 3)
	long := []byte{byte(KindClick), 42 | 0x80, 0x00, 3} // 42 in two bytes
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	stray := []byte(s.Open(300)) // 16 bytes: the last character carries 2 unused bits
	stray[len(stray)-1] = alphabet[strings.IndexByte(alphabet, stray[len(stray)-1])|1]
	tests := map[string]string{
		"newline inside": tok[:5] + "\n" + tok[5:],
		"newline at end": tok + "\r\n",
		"long varint":    enc.EncodeToString(s.mac(long, long)),
		"stray bits":     string(stray),
	}
	for name, bad := range tests {
		if _, err := s.Parse(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Parse(%q) err = %v, want ErrInvalidToken", name, bad, err)
		}
	}
	if r, err := s.Parse(tok); err != nil || r != (Ref{Kind: KindClick, Message: 42, Link: 3}) {
		t.Fatalf("Parse(%q) = %+v, %v", tok, r, err)
	}
}
