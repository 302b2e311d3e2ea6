package dsn

import (
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/lib/pq"
)

// Check reports whether lib/pq accepts s. Its error never holds the
// password (or sslpassword) written in s, nor a piece of it.
func Check(s string) error {
	if _, err := pq.NewConfig(s); err == nil {
		return nil
	}
	if scheme, _, ok := strings.Cut(s, "://"); ok && !isURL(s) && !strings.ContainsAny(scheme, " =") {
		return errors.New("a URL must start with postgres:// or postgresql://")
	}
	// Explain the problem from a copy without the secrets: whatever lib/pq
	// or net/url quote of it cannot be the password.
	_, err := pq.NewConfig(Redact(s))
	if err == nil {
		if isURL(s) {
			return errors.New("the password cannot be read; write characters such as / ? # @ % in it %-escaped")
		}
		return errors.New(`the password cannot be read; write it quoted, password='…', with \' and \\ for ' and \`)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New("not a valid URL: " + ue.Err.Error())
	}
	msg := strings.TrimPrefix(err.Error(), "pq: ")
	if strings.HasPrefix(msg, `missing "=" after`) {
		// The word quoted would be part of a value written with spaces.
		return errors.New(`a word has no "=": write key=value pairs separated by spaces, and quote a value with spaces as key='…'`)
	}
	return errors.New(msg)
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

const mask = "xxxxx"

var (
	// a key=value password: quoted (to the closing quote, or the end if
	// there is none) or a bare word
	kvPassword = regexp.MustCompile(`((?:^|\s)(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|'.*|\S*)`)
	// a password in a URL's query
	queryPassword = regexp.MustCompile(`([?&](?:ssl)?password=)[^&#]*`)
)

// Redact returns s with every password (and sslpassword) replaced by
// xxxxx, for messages and logs. In a URL everything between the user's ':'
// and the last '@' counts as the password, so an unescaped '/' or '@' in it
// does not let a piece through.
func Redact(s string) string {
	if !isURL(s) {
		return kvPassword.ReplaceAllString(s, "${1}'"+mask+"'")
	}
	i := strings.Index(s, "://") + 3
	rest := s[i:]
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
			rest = rest[:colon+1] + mask + rest[at:]
		}
	}
	return s[:i] + queryPassword.ReplaceAllString(rest, "${1}"+mask)
}
