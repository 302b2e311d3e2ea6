package store

import (
	"testing"
	"time"

	"github.com/nurture/nurture/internal/mailer"
)

// The subject of a mail as the composer wrote it, umlauts and folding
// included, and of header blocks that have none or are cut short.
func TestStory_SubjectOfTheMailAsSent(t *testing.T) {
	t.Parallel()
	c, err := mailer.NewComposer(mailer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	subject := "Prüfen Sie Ihre Wiederherstellung, bevor die Ransomware es tut: drei Fragen für Ihr Team"
	raw, err := c.Compose(mailer.Message{From: "news@acme.example", To: "lea@example.com", Subject: subject,
		Text: "Subject: not this", MessageID: "<s@acme.example>", Date: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		head []byte
		want string
	}{
		"composed":     {raw, subject},
		"no subject":   {[]byte("From: a@example.com\r\n"), ""},
		"LF only, cut": {[]byte("From: a@example.com\nSubject: =?UTF-8?q?Gr=C3=BC=C3=9Fe?=\n\nbody"), "Grüße"},
		"empty":        {nil, ""},
	} {
		if got := subjectOf(c.head); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
}
