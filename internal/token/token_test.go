package token

import (
	"bytes"
	"strings"
	"testing"
)

func TestRandom_UniqueAndHashed(t *testing.T) {
	a, ha := Random()
	b, _ := Random()
	if a == b || len(a) < 43 {
		t.Fatalf("weak tokens %q %q", a, b)
	}
	if !bytes.Equal(ha, Hash(a)) || bytes.Contains(ha, []byte(a)) {
		t.Fatal("hash does not match token")
	}
}

func TestSigner_RoundTripAndTamper(t *testing.T) {
	s := NewSigner([]byte(strings.Repeat("k", 32)))
	tok := s.Sign("unsubscribe", 42)
	if id, err := s.Verify("unsubscribe", tok); err != nil || id != 42 {
		t.Fatalf("verify: %d %v", id, err)
	}
	tests := map[string]string{
		"other purpose": "",
		"flipped byte":  tok[:len(tok)-1] + string("AB"[tok[len(tok)-1]%2]),
		"no signature":  strings.Split(tok, ".")[0],
		"other id":      NewSigner([]byte(strings.Repeat("k", 32))).Sign("unsubscribe", 43)[:11] + tok[11:],
		"empty":         "",
	}
	for name, bad := range tests {
		purpose := "unsubscribe"
		if name == "other purpose" {
			bad, purpose = tok, "confirm"
		}
		if _, err := s.Verify(purpose, bad); err != ErrInvalid {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, err := NewSigner([]byte(strings.Repeat("x", 32))).Verify("unsubscribe", tok); err != ErrInvalid {
		t.Error("other key accepted")
	}
}

func TestSigner_SignTextRoundTripAndTamper(t *testing.T) {
	s := NewSigner([]byte(strings.Repeat("k", 32)))
	sig := s.SignText("redirect", "https://www.acme.example/thanks")
	if !s.VerifyText("redirect", "https://www.acme.example/thanks", sig) {
		t.Fatal("own MAC refused")
	}
	for name, ok := range map[string]bool{
		"other text":    s.VerifyText("redirect", "https://evil.example/", sig),
		"other purpose": s.VerifyText("unsubscribe", "https://www.acme.example/thanks", sig),
		"other key":     NewSigner([]byte(strings.Repeat("x", 32))).VerifyText("redirect", "https://www.acme.example/thanks", sig),
		"empty":         s.VerifyText("redirect", "https://www.acme.example/thanks", ""),
		"not base64":    s.VerifyText("redirect", "https://www.acme.example/thanks", "!!"),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
}
