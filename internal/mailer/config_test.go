package mailer

import (
	"strings"
	"testing"
)

func TestParseURL_Accepts(t *testing.T) {
	tests := []struct {
		in   string
		want Config
	}{
		{"smtp://127.0.0.1:1025", Config{Host: "127.0.0.1", Port: 1025, TLS: StartTLSOpportunistic}},
		{"smtp://mail.acme.example:587?starttls=required", Config{Host: "mail.acme.example", Port: 587, TLS: StartTLSRequired}},
		{"smtp://mail.acme.example:25?starttls=off", Config{Host: "mail.acme.example", Port: 25, TLS: StartTLSOff}},
		{"smtp://mail.acme.example:25?starttls=opportunistic", Config{Host: "mail.acme.example", Port: 25, TLS: StartTLSOpportunistic}},
		{"smtps://user:p%40ss%3Aword@smtp.acme.example:465", Config{Host: "smtp.acme.example", Port: 465, Username: "user", Password: "p@ss:word", TLS: ImplicitTLS}},
		{"smtp://[::1]:2525/", Config{Host: "::1", Port: 2525}},
	}
	for _, tt := range tests {
		got, err := ParseURL(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got.Host != tt.want.Host || got.Port != tt.want.Port || got.TLS != tt.want.TLS ||
			got.Username != tt.want.Username || got.Password != tt.want.Password {
			t.Errorf("%s: got %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseURL_ErrorsSayWhatIsWrongAndHideThePassword(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "missing"},
		{"smtp://mail.acme.example", "port missing"},
		{"smtp://user:hunter2@mail.acme.example", "port missing"},
		{"smtp://:25", "host missing"},
		{"http://mail.acme.example:25", `scheme must be smtp or smtps, not "http"`},
		{"mail.acme.example:25", `scheme must be smtp or smtps, not "mail.acme.example"`},
		{"smtp:mail.acme.example:25", "write it as smtp://host:port"},
		{"smtp://mail.acme.example:0", `port "0" out of range`},
		{"smtp://mail.acme.example:70000", `port "70000" out of range`},
		{"smtp://user:hunter2@mail.acme.example:x", "not a URL"},
		{"smtp://mail.acme.example:25/relay", `unexpected path "/relay"`},
		{"smtp://mail.acme.example:25?tls=yes", `unknown parameter "tls"`},
		{"smtp://mail.acme.example:25?starttls=yes", `starttls must be required, off or opportunistic, not "yes"`},
		{"smtps://mail.acme.example:465?starttls=required", "starttls does not apply to smtps"},
		{"smtp://user@mail.acme.example:25", "give both user and password"},
		{"smtp://:hunter2@mail.acme.example:25", "give both user and password"},
		{"smtp://us er:hunter2@mail.acme.example:25", "not a URL"},
	}
	for _, tt := range tests {
		_, err := ParseURL(tt.in)
		if err == nil {
			t.Errorf("%q: accepted", tt.in)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "mailer: NURTURE_SMTP_URL: ") || !strings.Contains(msg, tt.want) {
			t.Errorf("%q: error %q, want it to say %q", tt.in, msg, tt.want)
		}
		if strings.Contains(msg, "hunter2") {
			t.Errorf("%q: error %q shows the password", tt.in, msg)
		}
	}
}

func TestConfig_StringHidesPassword(t *testing.T) {
	c, err := ParseURL("smtp://user:hunter2@mail.acme.example:587?starttls=required")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.String(); got != "smtp://user@mail.acme.example:587?starttls=required" {
		t.Fatalf("String() = %q", got)
	}
}
