package lead

import (
	"errors"
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Signup is what a person sent through a form or the API.
type Signup struct {
	Email          string     `json:"email"`
	FirstName      string     `json:"first_name"`
	LastName       string     `json:"last_name"`
	Source         string     `json:"source"`
	ConsentText    string     `json:"consent_text"`
	ConsentVersion string     `json:"consent_version"`
	Attributes     Attributes `json:"attributes"`
	// Tracking is the person's answer to the question whether their opens
	// and clicks may be tracked (§ 25 TDDDG): nil when it was not asked,
	// which tracks nothing. TrackingText and TrackingVersion are the words
	// of that question, kept like the consent's.
	Tracking        *bool  `json:"tracking"`
	TrackingText    string `json:"tracking_text"`
	TrackingVersion string `json:"tracking_version"`
}

// FieldErrors maps a field name to what is wrong with it.
type FieldErrors map[string]string

func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + fe[k]
	}
	return "invalid signup: " + strings.Join(parts, "; ")
}

// Limits on what a signup may carry.
const (
	maxName       = 100
	maxSource     = 64
	maxConsent    = 10000
	maxVersion    = 100
	maxAttributes = 50
	maxAttrKey    = 64
	maxAttrValue  = 500
)

// Normalize checks a signup and returns it cleaned: the address normalised,
// text trimmed and NFC-normalised. A problem comes back as FieldErrors.
func (s Signup) Normalize() (Signup, error) {
	fe := FieldErrors{}
	out := Signup{Attributes: Attributes{}}

	email, err := NormalizeEmail(s.Email)
	if err != nil {
		fe["email"] = err.Error()
	}
	out.Email = email

	text := func(field, v string, max int, required bool) string {
		if err := checkEncoding(v); err != nil {
			fe[field] = err.Error()
			return ""
		}
		v = strings.TrimSpace(norm.NFC.String(v))
		switch {
		case required && v == "":
			fe[field] = "is required"
		case utf8.RuneCountInString(v) > max:
			fe[field] = fmt.Sprintf("must be at most %d characters", max)
		case hasControl(v, field == "consent_text" || field == "tracking_text"):
			fe[field] = "must not contain line breaks or control characters"
		case shown(field) && hasBidi(v):
			fe[field] = errBidi.Error()
		}
		return v
	}
	out.FirstName = text("first_name", s.FirstName, maxName, false)
	out.LastName = text("last_name", s.LastName, maxName, false)
	out.Source = text("source", s.Source, maxSource, false)
	if _, bad := fe["source"]; !bad && out.Source != "" && !ValidSource(out.Source) {
		// The source outlives the lead in the anonymous purge counts, so it
		// must name a form or campaign, never carry what a person typed.
		fe["source"] = "must be a short name of letters, digits, '.', '_' and '-', such as ebook-2026"
	}
	// Browsers post a form's line breaks as CRLF; a line break is kept as LF.
	out.ConsentText = text("consent_text", strings.ReplaceAll(s.ConsentText, "\r\n", "\n"), maxConsent, true)
	out.ConsentVersion = text("consent_version", s.ConsentVersion, maxVersion, true)
	out.Tracking = s.Tracking
	out.TrackingText = text("tracking_text", strings.ReplaceAll(s.TrackingText, "\r\n", "\n"), maxConsent, false)
	out.TrackingVersion = text("tracking_version", s.TrackingVersion, maxVersion, false)
	checkTracking(out, fe)

	if len(s.Attributes) > maxAttributes {
		fe["attributes"] = fmt.Sprintf("at most %d attributes", maxAttributes)
	}
	for k, v := range s.Attributes {
		field := "attributes." + k
		if k == "" || len(k) > maxAttrKey || checkEncoding(k) != nil || hasControl(k, false) {
			fe["attributes"] = fmt.Sprintf("attribute name %q is not allowed", k)
			continue
		}
		switch v := v.(type) {
		case nil:
		case bool, float64, int, int64:
			out.Attributes[k] = v
		case string:
			out.Attributes[k] = text(field, v, maxAttrValue, false)
		default:
			fe[field] = "must be text, a number or true/false"
		}
	}
	if tz := out.Attributes.String("timezone"); tz != "" {
		if !isTimeZone(tz) {
			fe["attributes.timezone"] = "is not an IANA time zone such as Europe/Berlin"
		}
	}
	if len(fe) > 0 {
		return out, fe
	}
	return out, nil
}

// checkTracking requires the words of the tracking question wherever the
// ledger is to prove an answer yes: an agreement is worth only what it
// agreed to. A no needs no words; words without an answer are refused.
func checkTracking(s Signup, fe FieldErrors) {
	words := s.TrackingText != "" || s.TrackingVersion != ""
	switch {
	case s.Tracking == nil && words:
		fe["tracking"] = "is missing: send true or false, the person's answer to the tracking question in tracking_text"
	case s.Tracking != nil && (*s.Tracking || words):
		if _, bad := fe["tracking_text"]; !bad && s.TrackingText == "" {
			fe["tracking_text"] = "is required with tracking: the words of the question the person answered"
		}
		if _, bad := fe["tracking_version"]; !bad && s.TrackingVersion == "" {
			fe["tracking_version"] = "is required with tracking: a name for that wording, such as tracking-2026-11"
		}
	}
}

// isSlug reports a name such as "ebook-datensicherheit": ASCII letters,
// digits, '.', '_' and '-'.
// ValidSource reports whether s is a usable signup source: a short name of
// ASCII letters, digits, '.', '_' and '-'.
func ValidSource(s string) bool {
	if len(s) > maxSource {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Errors for bytes that are not text. Postgres refuses both in a text
// column, and a signup is written in one transaction with others (group
// commit), so such a value must never get past Normalize.
var (
	errNotUTF8 = errors.New("must be valid UTF-8 text")
	errNUL     = errors.New("must not contain NUL characters")
)

func checkEncoding(s string) error {
	switch {
	case !utf8.ValidString(s):
		return errNotUTF8
	case strings.IndexByte(s, 0) >= 0:
		return errNUL
	}
	return nil
}

// hasControl reports control characters; CR and LF are never allowed, since
// a value may end up in a mail header. Multi-line text may keep its newlines
// when allowNewline is set (the consent text), but never a lone CR.
func hasControl(s string, allowNewline bool) bool {
	for _, r := range s {
		if allowNewline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// errBidi refuses the bidirectional embedding, override and isolate
// controls (U+202A–U+202E, U+2066–U+2069): they reorder what follows them,
// so "anna\u202Emoc.elpmaxe@evil.example" can read as another address, and a
// name can hide or fake text around it in a mail or on a dashboard. The
// bidi algorithm orders right-to-left script without them.
var errBidi = errors.New("must not contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069)")

func hasBidi(s string) bool {
	for _, r := range s {
		if '\u202A' <= r && r <= '\u202E' || '\u2066' <= r && r <= '\u2069' {
			return true
		}
	}
	return false
}

// shown reports whether a field is a person's words that others see as
// text: the names and the attributes, such as the company.
func shown(field string) bool {
	return field == "first_name" || field == "last_name" || strings.HasPrefix(field, "attributes.")
}

// idnaDots are the label separators IDNA maps to '.' that NFKC leaves alone.
var idnaDots = strings.NewReplacer("\u3002", ".", "\uff61", ".")

var errEmail = errors.New("is not a valid email address")

// NormalizeEmail checks an address's syntax and returns its canonical form:
// NFC, lower case, and the domain in its ASCII (punycode) form, so that the
// same mailbox written two ways is one lead.
func NormalizeEmail(raw string) (string, error) {
	// strings.ToLower would turn an invalid byte into U+FFFD, and accept it.
	if err := checkEncoding(raw); err != nil {
		return "", err
	}
	s := strings.TrimSpace(norm.NFC.String(raw))
	if s == "" {
		return "", errors.New("is required")
	}
	if hasBidi(s) {
		return "", errBidi
	}
	if len(s) > 254 || hasControl(s, false) || strings.ContainsAny(s, " <>,;\"") {
		return "", errEmail
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 {
		return "", errEmail
	}
	local, domain := s[:at], strings.TrimSuffix(s[at+1:], ".")
	if len(local) > 64 {
		return "", errEmail
	}
	ascii, err := idna.Lookup.ToASCII(strings.ToLower(domain))
	if err != nil || !strings.Contains(ascii, ".") {
		return "", errEmail
	}
	addr := strings.ToLower(local) + "@" + ascii
	// net/mail checks the local part's grammar (dots, quoting, specials).
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Address != addr {
		return "", errEmail
	}
	return addr, nil
}

// GreetingName returns the first name for a greeting in mail the person has
// not confirmed yet, or "" when it looks like a link, an address or markup.
// Subscription bombers put spam links in the name field so that the
// confirmation mail carries them; such a name is left out rather than shown.
func GreetingName(first string) string {
	// A mail client's IDNA reads fullwidth forms (NFKC) and the ideographic
	// full stops as ASCII: "evil。com" links to evil.com.
	l := strings.ToLower(idnaDots.Replace(norm.NFKC.String(first)))
	if strings.ContainsAny(l, "<>[](){}@/\\:=&%$*#") || strings.Contains(l, "www") {
		return ""
	}
	// a dot between letters reads as a domain: "evil.example"
	for i := 1; i+1 < len(l); i++ {
		if l[i] == '.' && l[i-1] != ' ' && l[i+1] != ' ' {
			return ""
		}
	}
	return first
}

// zones holds the time zone names found valid: LoadLocation reads the zone's
// file each time, which cost a signup more than the rest of its checks.
// Only valid names are kept, so the set stays as small as the database.
var zones sync.Map

func isTimeZone(tz string) bool {
	if _, ok := zones.Load(tz); ok {
		return true
	}
	if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		return false
	}
	zones.Store(tz, true)
	return true
}
