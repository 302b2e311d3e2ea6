package dsn

import (
	"strings"
	"testing"
)

func TestCheck_AcceptsWhatLibPQAccepts(t *testing.T) {
	for _, s := range []string{
		"postgres://localhost/nurture",
		"postgresql://nurture:s3cr%2Ft@db.internal:5432/nurture?sslmode=require",
		"postgres://x",
		"host=/tmp dbname=nurture user=nurture password='s3 cr\\'et' sslmode=disable",
		"dbname=nurture",
	} {
		if err := Check(s); err != nil {
			t.Errorf("Check(%q) = %v", s, err)
		}
	}
}

// Every refused string holds the password s3cretpw; no message may hold it
// or a piece of it.
func TestCheck_SaysWhatIsWrongWithoutThePassword(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:s3cretpw@db.internal:x5432/nurture", `not a valid URL: invalid port ":x5432" after host`},
		{"postgres://u:s3cr/etpw@db.internal:5432/nurture", "the password cannot be read; write characters such as / ? # @ % in it %-escaped"},
		{"postgres://u:s3cr%zzetpw@db.internal/nurture", "the password cannot be read"},
		{"postgres://u:s3cretpw@db.internal/nurture?sslmode=sometimes", `"sslmode": "sometimes" is not supported`},
		{"postgres://db.internal/nurture?password=s3cretpw&sslmode=sometimes", `"sslmode": "sometimes" is not supported`},
		{"mysql://u:s3cretpw@db.internal/nurture", "a URL must start with postgres:// or postgresql://"},
		{"host=db.internal password=s3cret pw dbname=nurture", `a word has no "="`},
		{"host=db.internal password='s3cretpw dbname=nurture", "the password cannot be read; write it quoted"},
		{"host=db.internal password=s3cretpw sslmode=sometimes", `"sslmode": "sometimes" is not supported`},
		{"host=db.internal sslpassword=s3cretpw sslmode=sometimes", `"sslmode": "sometimes" is not supported`},
	}
	for _, tt := range tests {
		err := Check(tt.in)
		if err == nil {
			t.Errorf("Check(%q) accepted it", tt.in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.want) {
			t.Errorf("Check(%q) = %q, want it to say %q", tt.in, msg, tt.want)
		}
		for _, piece := range []string{"s3cr", "etpw", "cretp"} {
			if strings.Contains(msg, piece) {
				t.Errorf("Check(%q) = %q: holds a piece of the password", tt.in, msg)
			}
		}
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"postgres://u:pw@h/db":                     "postgres://u:xxxxx@h/db",
		"postgres://u:p/w@x@h:5432/db?sslmode=off": "postgres://u:xxxxx@h:5432/db?sslmode=off",
		"postgres://u@h/db":                        "postgres://u@h/db",
		"postgres://h/db?sslmode=off&password=pw":  "postgres://h/db?sslmode=off&password=xxxxx",
		"host=h password=pw dbname=db":             "host=h password='xxxxx' dbname=db",
		"password = 'p w\\'x' host=h":              "password = 'xxxxx' host=h",
		"host=h password='unterminated dbname=db":  "host=h password='xxxxx'",
		"host=h sslpassword=pw":                    "host=h sslpassword='xxxxx'",
		"host=h application_name=mypassword=x":     "host=h application_name=mypassword=x",
	}
	for in, want := range tests {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
