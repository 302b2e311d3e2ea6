package optin

import (
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/link"
	"github.com/nurture/nurture/internal/mailer"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/token"
	"github.com/nurture/nurture/templates"
)

// The work a first signup does outside the database: its ledger entry and
// its confirmation mail, composed.
func BenchmarkSignupRecord_ComposesConfirmation(b *testing.B) {
	c, _ := mailer.NewComposer(mailer.Config{})
	base, _ := url.Parse("http://nurture.test")
	links := link.New(base, token.NewSigner([]byte(strings.Repeat("k", 32))), "")
	s, err := New(nil, c, links, templates.FS, slog.New(slog.DiscardHandler), time.Now, Options{From: "Acme News <news@acme.example>"})
	if err != nil {
		b.Fatal(err)
	}
	su, _ := lead.Signup{Email: "anna@example.com", FirstName: "Anna", LastName: "Schmidt", ConsentText: "yes", ConsentVersion: "v1"}.Normalize()
	l := &store.LeadRow{Lead: lead.Lead{ID: 42, Email: su.Email}}
	ev := lead.Evidence{At: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.signupRecord(l, su.Data(), lead.EventSignup, ev, true); err != nil {
			b.Fatal(err)
		}
	}
}
