package link

import (
	"net/url"
	"strings"
	"testing"

	"github.com/nurture/nurture/internal/token"
)

func builder(t *testing.T, mailto string) *Builder {
	t.Helper()
	base, err := url.Parse("https://news.acme.example/")
	if err != nil {
		t.Fatal(err)
	}
	return New(base, token.NewSigner([]byte(strings.Repeat("k", 32))), mailto)
}

func TestBuilder_LinksSitUnderTheBaseURL(t *testing.T) {
	b := builder(t, "news@acme.example")
	if got, want := b.URL("/subscribe"), "https://news.acme.example/subscribe"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if got, want := b.Confirm("abc"), "https://news.acme.example/confirm/abc"; got != want {
		t.Errorf("Confirm = %q, want %q", got, want)
	}
	tok := b.UnsubscribeToken(42)
	if got, want := b.Unsubscribe(42), "https://news.acme.example/unsubscribe/"+tok; got != want {
		t.Errorf("Unsubscribe = %q, want %q", got, want)
	}
	if got, want := b.UnsubscribeMailto(42), "mailto:news@acme.example?subject="+url.QueryEscape("unsubscribe "+tok); got != want {
		t.Errorf("UnsubscribeMailto = %q, want %q", got, want)
	}
}

func TestBuilder_UnsubscribeTokenNamesItsLeadOnly(t *testing.T) {
	b := builder(t, "")
	id, err := b.VerifyUnsubscribe(b.UnsubscribeToken(42))
	if err != nil || id != 42 {
		t.Fatalf("VerifyUnsubscribe = %d, %v; want 42", id, err)
	}
	if _, err := b.VerifyUnsubscribe(b.UnsubscribeToken(42) + "x"); err == nil {
		t.Error("a changed token verified")
	}
	if got := b.UnsubscribeMailto(42); got != "" {
		t.Errorf("UnsubscribeMailto without an address = %q, want none", got)
	}
}

func TestBuilder_TrackingLinkIsNoUnsubscribeLink(t *testing.T) {
	b := builder(t, "")
	u := b.Tracking(42)
	tok, ok := strings.CutPrefix(u, "https://news.acme.example/tracking/")
	if !ok {
		t.Fatalf("Tracking = %q, want it under /tracking/", u)
	}
	if id, err := b.VerifyTracking(tok); err != nil || id != 42 {
		t.Errorf("VerifyTracking = %d, %v; want 42", id, err)
	}
	if _, err := b.VerifyUnsubscribe(tok); err == nil {
		t.Error("a tracking token unsubscribes")
	}
	if _, err := b.VerifyTracking(b.UnsubscribeToken(42)); err == nil {
		t.Error("an unsubscribe token changes tracking consent")
	}
}
