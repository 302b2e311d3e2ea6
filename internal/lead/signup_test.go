package lead

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Anna@Example.COM", "anna@example.com", true},
		{"  anna@example.com ", "anna@example.com", true},
		{"jörg@bücher.de", "jörg@xn--bcher-kva.de", true},
		{"anna@example.com.", "anna@example.com", true},
		{"first.last+tag@sub.example.org", "first.last+tag@sub.example.org", true},
		{"", "", false},
		{"anna", "", false},
		{"anna@", "", false},
		{"@example.com", "", false},
		{"anna@localhost", "", false},
		{"anna@@example.com", "", false},
		{"an na@example.com", "", false},
		{"Anna <anna@example.com>", "", false},
		{"anna@example.com\r\nBcc: x@evil.example", "", false},
		{"a..b@example.com", "", false},
		{"\xff@example.com", "", false}, // not U+FFFD@example.com
		{"anna\x00@example.com", "", false},
		{strings.Repeat("a", 65) + "@example.com", "", false},
		{"anna\u202Emoc.elpmaxe@evil.example", "", false},
		{"anna\u2066x\u2069@example.com", "", false},
		{"anna@exa\u202Dmple.com", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestSignupNormalize_FieldErrors(t *testing.T) {
	s := Signup{
		Email:          "nope",
		FirstName:      "Anna\r\nBcc: victim@example.com",
		ConsentText:    "",
		ConsentVersion: "v1",
		Attributes:     Attributes{"timezone": "Mars/Olympus", "nested": map[string]any{"a": 1}},
	}
	_, err := s.Normalize()
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("got %v", err)
	}
	for _, field := range []string{"email", "first_name", "consent_text", "attributes.timezone", "attributes.nested"} {
		if fe[field] == "" {
			t.Errorf("no error for %s in %v", field, fe)
		}
	}
}

func TestSignupNormalize_CleansValidInput(t *testing.T) {
	s := Signup{
		Email: "Anna@Example.com", FirstName: "  Anna ", Source: "newsletter",
		ConsentText: "Yes, send me the newsletter.\nI can unsubscribe any time.", ConsentVersion: "2026-01",
		Attributes: Attributes{"company": "Acme", "timezone": "Europe/Berlin", "company_size": float64(250)},
	}
	got, err := s.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "anna@example.com" || got.FirstName != "Anna" || got.Attributes.String("company_size") != "250" {
		t.Errorf("got %+v", got)
	}
}

func TestGreetingName_DropsLinksAndMarkup(t *testing.T) {
	tests := map[string]string{
		"Anna":                       "Anna",
		"Anna-Lena":                  "Anna-Lena",
		"J. R.":                      "J. R.",
		"<b>x</b>":                   "",
		"[win](http://evil.example)": "",
		"evil.example":               "",
		"visit www evil":             "",
		"me@evil.example":            "",
		"evil。com":                   "", // U+3002 ideographic full stop
		"evil．com":                   "", // U+FF0E fullwidth full stop
		"evil｡com":                   "", // U+FF61 halfwidth ideographic full stop
		"evil﹒com":                   "", // U+FE52 small full stop
		"ｗｗｗ evil":                   "", // fullwidth letters
		"me＠evil":                    "", // U+FF20 fullwidth commercial at
		"ｈｔｔｐｓ：／／evil":               "",
		"Jörg":                       "Jörg",
		"李。 明":                       "李。 明", // a full stop before a space ends a sentence
		"ＡＮＮＡ":                       "ＡＮＮＡ", // kept as typed
	}
	for in, want := range tests {
		if got := GreetingName(in); got != want {
			t.Errorf("GreetingName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Postgres refuses invalid UTF-8 and NUL in text, and a signup shares its
// transaction with others: every field must refuse them up front.
func TestSignupNormalize_RefusesInvalidUTF8AndNULInEveryField(t *testing.T) {
	valid := func() Signup {
		return Signup{
			Email: "anna@example.com", FirstName: "Anna", LastName: "Schmidt", Source: "webinar",
			ConsentText: "Yes, invite me.", ConsentVersion: "w1", Attributes: Attributes{"company": "Acme"},
		}
	}
	tests := []struct {
		name, field, want string
		edit              func(*Signup)
	}{
		{"email", "email", "must be valid UTF-8 text", func(s *Signup) { s.Email = "\xff@example.com" }},
		{"email NUL", "email", "must not contain NUL characters", func(s *Signup) { s.Email = "anna\x00@example.com" }},
		{"first name", "first_name", "must be valid UTF-8 text", func(s *Signup) { s.FirstName = "\xff" }},
		{"first name NUL", "first_name", "must not contain NUL characters", func(s *Signup) { s.FirstName = "An\x00na" }},
		{"last name", "last_name", "must be valid UTF-8 text", func(s *Signup) { s.LastName = "Schmidt\xc3" }},
		{"source", "source", "must be valid UTF-8 text", func(s *Signup) { s.Source = "web\xffinar" }},
		{"consent text", "consent_text", "must be valid UTF-8 text", func(s *Signup) { s.ConsentText = "Yes\xff" }},
		{"consent text NUL", "consent_text", "must not contain NUL characters", func(s *Signup) { s.ConsentText = "Yes\x00" }},
		{"consent version", "consent_version", "must be valid UTF-8 text", func(s *Signup) { s.ConsentVersion = "\xfe" }},
		{"attribute value", "attributes.company", "must be valid UTF-8 text", func(s *Signup) { s.Attributes["company"] = "Acme\xff" }},
		{"attribute value NUL", "attributes.company", "must not contain NUL characters", func(s *Signup) { s.Attributes["company"] = "\x00" }},
		{"attribute key", "attributes", `attribute name "\xff" is not allowed`, func(s *Signup) { s.Attributes["\xff"] = "x" }},
		{"attribute key NUL", "attributes", `attribute name "a\x00" is not allowed`, func(s *Signup) { s.Attributes["a\x00"] = "x" }},
	}
	if _, err := valid().Normalize(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			tt.edit(&s)
			_, err := s.Normalize()
			var fe FieldErrors
			if !errors.As(err, &fe) || fe[tt.field] != tt.want || len(fe) != 1 {
				t.Fatalf("got %v, want only %s: %s", err, tt.field, tt.want)
			}
		})
	}
}

func TestSignupNormalize_SourceIsAShortSlug(t *testing.T) {
	tests := []struct {
		source string
		ok     bool
	}{
		{"", true},
		{"newsletter", true},
		{"ebook-datensicherheit", true},
		{"Webinar_2026.11", true},
		{"  webinar  ", true}, // trimmed
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"my newsletter", false},
		{"anna@example.com", false},
		{"https://www.acme.example/ebook", false},
		{"bücher", false},
		{"web/inar", false},
	}
	for _, tt := range tests {
		s := Signup{Email: "anna@example.com", Source: tt.source, ConsentText: "Yes.", ConsentVersion: "v1"}
		_, err := s.Normalize()
		var fe FieldErrors
		errors.As(err, &fe)
		if (fe["source"] == "") != tt.ok {
			t.Errorf("source %q: got %v, want ok=%v", tt.source, err, tt.ok)
		}
	}
}

func TestSignupNormalize_ConsentTextKeepsLineBreaksAsLF(t *testing.T) {
	s := Signup{Email: "anna@example.com", ConsentText: "Yes, mail me.\r\nI can unsubscribe.", ConsentVersion: "v1"}
	got, err := s.Normalize()
	if err != nil || got.ConsentText != "Yes, mail me.\nI can unsubscribe." {
		t.Fatalf("got %q, %v", got.ConsentText, err)
	}
	s.ConsentText = "Yes, mail me.\rI can unsubscribe."
	if _, err := s.Normalize(); err == nil {
		t.Fatal("a lone CR was accepted")
	}
}

func TestNormalize_RefusesBidiControlsInAddressesAndNames(t *testing.T) {
	base := Signup{Email: "anna@example.com", ConsentText: "Yes", ConsentVersion: "v1"}
	for _, c := range []rune{'\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'} {
		for _, field := range []string{"email", "first_name", "last_name", "attributes.company"} {
			s := base
			s.Attributes = Attributes{}
			bad := "ab" + string(c) + "cd"
			switch field {
			case "email":
				s.Email = bad + "@example.com"
			case "first_name":
				s.FirstName = bad
			case "last_name":
				s.LastName = bad
			default:
				s.Attributes["company"] = bad
			}
			_, err := s.Normalize()
			var fe FieldErrors
			if !errors.As(err, &fe) || !strings.Contains(fe[field], "bidirectional") {
				t.Errorf("U+%04X in %s: %v", c, field, err)
			}
		}
	}
	// Right-to-left script itself is fine, and so are the marks that only
	// hint a direction.
	s := base
	s.FirstName, s.LastName = "\u05e9\u05e8\u05d4", "\u0639\u0644\u064a\u200f"
	if _, err := s.Normalize(); err != nil {
		t.Fatalf("right-to-left name refused: %v", err)
	}
}
